"""A softmax before a loss that applies softmax to its logits itself: each piece's gradient is right,
but the loss sees softmax of probabilities and has a floor. The report names the line that made the
probabilities; a softmax feeding a loss that takes probabilities stays clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, d):
        self.dW, self.db = self.x.T @ d, d.sum(axis=0)
        return d @ self.W.T

    def update(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, d):
        return d * (1 - self.y ** 2)

    def update(self, lr):
        pass


class SoftmaxLayer:
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p

    def backward(self, d):
        return self.p * (d - (d * self.p).sum(axis=1, keepdims=True))

    def update(self, lr):
        pass


def softmax_cross_entropy(scores, labels):
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(probs[np.arange(n), labels]).mean()
    grad = probs.copy()
    grad[np.arange(n), labels] -= 1
    return loss, grad / n


rng = np.random.default_rng(8)
K = 6
centers = rng.normal(0, 1.0, (K, 10))
labels = rng.integers(0, K, 300)
X = centers[labels] + rng.normal(0, 1.0, (300, 10))
model = [Dense(10, 24, rng), Tanh(), Dense(24, K, rng)]
for step in range(150):
    out = X
    for layer in model:
        out = layer.forward(out)
    loss, d = softmax_cross_entropy(out, labels)
    for layer in reversed(model):
        d = layer.backward(d)
    for layer in model:
        layer.update(0.5)
'''

SCRIPT = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_from_logits(logits, y):
    p = softmax(logits)
    n = len(y)
    return -np.mean(np.log(p[np.arange(n), y])), (p - np.eye(p.shape[1])[y]) / n


def nll(probs, y):
    n = len(y)
    d = np.zeros_like(probs)
    d[np.arange(n), y] = -1 / probs[np.arange(n), y] / n
    return -np.mean(np.log(probs[np.arange(n), y])), d


np.random.seed(0)
K = 4
y = np.random.randint(0, K, 200)
X = np.eye(K)[y] * 2 + np.random.randn(200, K) * 0.5
W = np.random.randn(K, K) * 0.1
b = np.zeros(K)
for it in range(200):
    z = X @ W + b
    probs = softmax(z)
    loss, dprobs = nll(probs, y)
    dz = probs * (dprobs - (dprobs * probs).sum(axis=1, keepdims=True))
    W -= 0.5 * X.T @ dz
    b -= 0.5 * dz.sum(axis=0)
'''


def _named(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-softmax-twice"]


def test_logits_handed_to_a_loss_that_applies_softmax_are_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS), training=True)
    assert errors(report) == [] and _named(report) == []


def test_a_softmax_layer_before_a_loss_that_takes_probabilities_is_clean(tmp_path):
    inline = (  # the negative log-likelihood of probabilities, written in the loop
        "picked = out[np.arange(len(labels)), labels]\n    loss = -np.log(picked).mean()\n"
        "    d = np.zeros_like(out)\n    d[np.arange(len(labels)), labels] = -1 / picked / len(labels)"
    )
    source = LAYERS.replace("Dense(24, K, rng)]", "Dense(24, K, rng), SoftmaxLayer()]").replace(
        "loss, d = softmax_cross_entropy(out, labels)", inline
    )
    assert "-1 / picked" in source
    report = check(write(tmp_path, "layers.py", source), training=True)
    assert errors(report) == [] and _named(report) == []


def test_a_softmax_layer_before_a_loss_that_applies_softmax_is_named_where_it_is_added(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "Dense(24, K, rng)]", "Dense(24, K, rng), SoftmaxLayer()]")
    (finding,) = errors(check(path, training=True))
    assert (finding["name"], finding["line"]) == ("step-softmax-twice", line_of(path, "model = [Dense(10, 24, rng)"))
    assert "softmax is applied twice" in finding["message"] and "already a probability distribution" in finding["message"]
    assert "cannot fall below 1.04" in finding["message"]  # log(e + 5) - 1 for 6 classes


def test_a_flat_script_that_applies_softmax_before_its_logit_loss_is_named_at_that_line(tmp_path):
    path = planted(tmp_path, "flat.py", SCRIPT, "loss, dprobs = nll(probs, y)", "loss, dprobs = loss_from_logits(probs, y)")
    (finding,) = errors(check(path, training=True))
    assert (finding["name"], finding["line"]) == ("step-softmax-twice", line_of(path, "    probs = softmax(z)"))
    assert "`loss_from_logits`" in finding["message"]


def test_the_flat_script_whose_loss_takes_probabilities_is_clean(tmp_path):
    report = check(write(tmp_path, "flat.py", SCRIPT), training=True)
    assert errors(report) == [] and _named(report) == []


OBJECTS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = 0.1 * np.random.randn(n_in, n_out)
        self.b = np.zeros((1, n_out))

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, d):
        self.dW = self.x.T @ d
        self.db = d.sum(axis=0, keepdims=True)
        return d @ self.W.T


class Softmax:
    def forward(self, z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p


class NLL:
    def forward(self, p, y):
        self.p, self.y = p, y
        return -np.mean(np.log(p[np.arange(len(y)), y]))

    def backward(self):
        d = np.zeros_like(self.p)
        d[np.arange(len(self.y)), self.y] = -1 / self.p[np.arange(len(self.y)), self.y] / len(self.y)
        return d


X = np.random.randn(90, 3)
y = (X[:, 0] > X[:, 1]).astype(int) + (X[:, 2] > 0).astype(int)
dense, softmax, criterion = Dense(3, 3), Softmax(), NLL()
for epoch in range(100):
    probs = softmax.forward(dense.forward(X))
    loss = criterion.forward(probs, y)
    dp = criterion.backward()
    dz = softmax.p * (dp - (dp * softmax.p).sum(axis=1, keepdims=True))
    dense.backward(dz)
    dense.W -= 0.5 * dense.dW
    dense.b -= 0.5 * dense.db
'''


def test_a_loss_object_whose_forward_takes_probabilities_is_not_the_softmax_classes_forward(tmp_path):
    # `criterion.forward(probs, y)` is `NLL.forward`; `Softmax.forward`, another class's method of the same name, is not it
    report = check(write(tmp_path, "objects.py", OBJECTS), training=True)
    assert errors(report) == [] and _named(report) == []
