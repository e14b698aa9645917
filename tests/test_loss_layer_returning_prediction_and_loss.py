"""A loss layer whose `forward(x, t)` returns its prediction beside the loss by design (`return self.y,
loss`, or `return loss, probs`), every caller unpacking the pair, and a network whose `loss(x, t)` hands
that pair on: the loss is the pair's one number, so a correct program gets no `bad-return` error, and
the loss layer's backward is still checked (a wrong one is found)."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# A book-style network: layers in an OrderedDict, the loss layer reached through `self.head`.
BOOK = '''\
import numpy as np
from collections import OrderedDict


class Linear:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class SoftmaxCrossEntropy:
    def forward(self, x, t):
        shifted = x - x.max(axis=1, keepdims=True)
        self.probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        self.t = t
        loss = -np.sum(t * np.log(self.probs)) / x.shape[0]
        return self.probs, loss

    def backward(self, dout=1):
        return dout * (self.probs - self.t) / self.t.shape[0]


class TwoLayer:
    def __init__(self, n_in, n_hidden, n_out):
        rng = np.random.RandomState(1)
        self.params = {
            "W1": rng.randn(n_in, n_hidden) * 0.3, "b1": np.zeros(n_hidden),
            "W2": rng.randn(n_hidden, n_out) * 0.3, "b2": np.zeros(n_out),
        }
        self.layers = OrderedDict()
        self.layers["fc1"] = Linear(self.params["W1"], self.params["b1"])
        self.layers["act"] = Tanh()
        self.layers["fc2"] = Linear(self.params["W2"], self.params["b2"])
        self.head = SoftmaxCrossEntropy()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        probs, value = self.head.forward(self.predict(x), t)
        return value

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.head.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {"W1": self.layers["fc1"].dW, "b1": self.layers["fc1"].db,
                "W2": self.layers["fc2"].dW, "b2": self.layers["fc2"].db}


rng = np.random.RandomState(0)
x = rng.randn(40, 6)
t = np.eye(3)[rng.randint(0, 3, 40)]
net = TwoLayer(6, 10, 3)
for step in range(60):
    grads = net.gradient(x, t)
    for key in net.params:
        net.params[key] -= 0.3 * grads[key]
print(net.loss(x, t))
'''

# The loss first, then the probabilities, and a network whose `loss` returns the pair itself.
PAIR_FIRST = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.randn(n_in, n_out) * 0.2
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class CrossEntropyHead:
    def forward(self, scores, labels):
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        self.labels = labels
        n = scores.shape[0]
        return -np.log(self.p[np.arange(n), labels]).mean(), self.p

    def backward(self, dout=1.0):
        n = self.labels.shape[0]
        g = self.p.copy()
        g[np.arange(n), self.labels] -= 1.0
        return dout * g / n


class Classifier:
    def __init__(self, sizes):
        rng = np.random.RandomState(2)
        self.layers = [Dense(a, b, rng) for a, b in zip(sizes[:-1], sizes[1:])]
        self.last_layer = CrossEntropyHead()

    def loss(self, x, labels):
        for layer in self.layers:
            x = layer.forward(x)
        return self.last_layer.forward(x, labels)

    def gradient(self, x, labels):
        self.loss(x, labels)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, layer in enumerate(self.layers):
            grads["W%d" % i], grads["b%d" % i] = layer.dW, layer.db
        return grads


rng = np.random.RandomState(0)
x = rng.randn(30, 4)
labels = rng.randint(0, 3, 30)
model = Classifier([4, 3])
history = []
for epoch in range(50):
    grads = model.gradient(x, labels)
    for i, layer in enumerate(model.layers):
        layer.W -= 0.5 * grads["W%d" % i]
        layer.b -= 0.5 * grads["b%d" % i]
    value, _ = model.loss(x, labels)
    history.append(value)
print(history[-1])
'''


def _bad_returns(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "bad-return"]


def test_a_book_network_whose_loss_layer_returns_the_pair_is_clean(tmp_path):
    report = check(write(tmp_path, "book_net.py", BOOK), training=True)
    assert _bad_returns(report) == []
    assert errors(report) == []
    checked = {m["layer"] for m in report["measurements"]}
    assert "SoftmaxCrossEntropy" in checked


def test_a_wrong_backward_of_that_loss_layer_is_still_found(tmp_path):
    path = planted(tmp_path, "book_net.py", BOOK, "return dout * (self.probs - self.t) / self.t.shape[0]", "return dout * (self.probs - self.t)")
    report = check(path)
    assert _bad_returns(report) == []
    assert any(f["name"] == "gradient-mismatch" for f in errors(report)), report["findings"]


def test_a_loss_returned_before_the_probabilities_by_a_network_is_clean(tmp_path):
    report = check(write(tmp_path, "pair_first.py", PAIR_FIRST), training=True)
    assert _bad_returns(report) == []
    assert errors(report) == []
    checked = {m["layer"] for m in report["measurements"]}
    assert "CrossEntropyHead" in checked


def test_a_wrong_backward_of_the_loss_first_layer_is_still_found(tmp_path):
    path = planted(tmp_path, "pair_first.py", PAIR_FIRST, "g[np.arange(n), self.labels] -= 1.0", "g[np.arange(n), self.labels] -= 0.5")
    report = check(path)
    assert _bad_returns(report) == []
    assert any(f["name"] == "gradient-mismatch" for f in errors(report)), report["findings"]
