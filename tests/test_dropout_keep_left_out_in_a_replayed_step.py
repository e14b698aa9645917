"""A training step that hands its backward pass the dropout masks it drew (`backprop(x, y, masks)` of a book-style
network with lists of weights and biases, `grads = backward(params, X[idx], Y[idx], masks, keep)` of a flat script),
computes no loss (it prints an accuracy) and updates by list comprehension: the loss its backward's output error
implies is read in the loop's names through the forward call the backward makes (`self.run(x, masks)[1][-1]`,
`forward(params, X[idx], masks, keep)[2]`), so the step is replayed from the program's own state with the masks
it drew. A backward that applies the mask but leaves out inverted dropout's `/ keep` makes the hidden layer's
gradients `keep` times the loss's: named at the statement that drops it, the factor said at the program's scale
(the mean over the batch, from the layers that follow the loss).

Was: the book-style network not checked ("no problems found in 1 layer": the replay found no loss, and a loss
method `self.loss` was made up for `self.backprop`), the flat script "nothing to check".
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

BOOK = '''\
import numpy as np


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class DropNet:
    def __init__(self, layers, keep_prob=0.7):
        self.layers = layers
        self.keep_prob = keep_prob
        self.biases = [np.zeros((n, 1)) for n in layers[1:]]
        self.weights = [np.random.randn(n, m) * np.sqrt(1.0 / m) for m, n in zip(layers[:-1], layers[1:])]

    def predict(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sig(w @ a + b)
        return a

    def draw(self, count):
        return [(np.random.rand(n, count) < self.keep_prob).astype(float) for n in self.layers[1:-1]]

    def run(self, x, masks):
        outs = [x]
        pre = []
        a = x
        for i, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ a + b
            pre.append(z)
            a = sig(z)
            if i < len(self.weights) - 1:
                a = a * masks[i] / self.keep_prob
            outs.append(a)
        return pre, outs

    def backprop(self, x, y, masks):
        grad_b = [None] * len(self.biases)
        grad_w = [None] * len(self.weights)
        pre, outs = self.run(x, masks)
        n = x.shape[1]
        d = (outs[-1] - y) / n
        grad_b[-1] = d.sum(axis=1, keepdims=True)
        grad_w[-1] = d @ outs[-2].T
        for k in range(2, len(self.layers)):
            s = sig(pre[-k])
            d = (self.weights[-k + 1].T @ d) * masks[-k + 1] / self.keep_prob * s * (1 - s)
            grad_b[-k] = d.sum(axis=1, keepdims=True)
            grad_w[-k] = d @ outs[-k - 1].T
        return grad_b, grad_w

    def train(self, X, Y, epochs, batch, lr):
        count = X.shape[1]
        for e in range(epochs):
            idx = np.random.permutation(count)
            for start in range(0, count, batch):
                pick = idx[start:start + batch]
                masks = self.draw(len(pick))
                grad_b, grad_w = self.backprop(X[:, pick], Y[:, pick], masks)
                self.weights = [w - lr * g for w, g in zip(self.weights, grad_w)]
                self.biases = [b - lr * g for b, g in zip(self.biases, grad_b)]
            if e % 10 == 0:
                print(e, np.mean(np.argmax(self.predict(X), axis=0) == np.argmax(Y, axis=0)))


np.random.seed(7)
X = np.random.randn(6, 240)
Y = np.eye(2)[:, (X[0] * X[1] + X[2] > 0).astype(int)]
net = DropNet([6, 16, 2], keep_prob=0.7)
net.train(X, Y, 40, 24, 1.5)
'''

FLAT = '''\
import numpy as np


def softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(params, X, masks, keep):
    W1, b1, W2, b2 = params
    H = np.tanh(X @ W1 + b1)
    Hd = H * masks / keep
    P = softmax(Hd @ W2 + b2)
    return H, Hd, P


def backward(params, X, Y, masks, keep):
    W1, b1, W2, b2 = params
    H, Hd, P = forward(params, X, masks, keep)
    dS = (P - Y) / len(X)
    dW2 = Hd.T @ dS
    db2 = dS.sum(axis=0)
    dHd = dS @ W2.T
    dH = dHd * masks / keep
    dZ = dH * (1 - H ** 2)
    return [X.T @ dZ, dZ.sum(axis=0), dW2, db2]


rng = np.random.default_rng(21)
X = rng.normal(size=(300, 5))
labels = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5).astype(int)
Y = np.eye(3)[labels]
keep = 0.75
params = [rng.normal(0, 0.4, (5, 20)), np.zeros(20), rng.normal(0, 0.4, (20, 3)), np.zeros(3)]
lr = 0.5
for it in range(300):
    idx = rng.choice(len(X), 32, replace=False)
    masks = (rng.random((32, 20)) < keep).astype(float)
    grads = backward(params, X[idx], Y[idx], masks, keep)
    params = [p - lr * g for p, g in zip(params, grads)]
    if it % 100 == 0:
        print(it, np.mean(np.argmax(forward(params, X, np.ones((len(X), 20)), 1.0)[2], axis=1) == labels))
'''

PLANTED = [
    (BOOK, "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] / self.keep_prob * s * (1 - s)", "d = (self.weights[-k + 1].T @ d) * masks[-k + 1] * s * (1 - s)"),
    (FLAT, "dH = dHd * masks / keep", "dH = dHd * masks"),
]
IDS = ["book-network", "flat-functions"]


@pytest.mark.parametrize("text", [BOOK, FLAT], ids=IDS)
def test_the_correct_step_is_replayed_with_its_own_masks_and_clean(tmp_path, text):
    path = planted(tmp_path, "drop.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert errors(report) == []
    (replay,) = report["extras"]["replay"]
    assert replay["not_replayed"] is None
    assert replay["parameters"] and all(not p["wrong"] for p in replay["parameters"])


@pytest.mark.parametrize("text, correct, wrong", PLANTED, ids=IDS)
def test_the_keep_left_out_of_the_backward_is_named_at_its_line(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "drop.py", text, correct, wrong)
    report = check(path, training=True)
    found = errors(report)
    assert [(f["code"], f["line"]) for f in found] == [("BPD108", line_of(path, wrong))], found
    assert "0.7 ×" in found[0]["message"] or "0.75 ×" in found[0]["message"]
