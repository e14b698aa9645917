"""A dropout that keeps almost no unit: every gradient is right, but each step trains a different tiny
random sub-network. The report names the probability where it is set; usual ones stay clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

np.random.seed(2)
X = np.random.randn(240, 3)
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
keep_prob = 0.8
W1 = np.random.randn(3, 40) * 0.5
b1 = np.zeros(40)
W2 = np.random.randn(40, 2) * 0.2
b2 = np.zeros(2)
lr = 0.2
for it in range(300):
    z = X @ W1 + b1
    a = np.maximum(z, 0)
    mask = (np.random.rand(*a.shape) < keep_prob) / keep_prob
    ad = a * mask
    s = ad @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y]))
    ds = p.copy()
    ds[np.arange(len(y)), y] -= 1
    ds /= len(y)
    dW2 = ad.T @ ds
    db2 = ds.sum(axis=0)
    dz = (ds @ W2.T) * mask * (z > 0)
    dW1 = X.T @ dz
    db1 = dz.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x, train=True):
        self.x = x
        return x @ self.W + self.b

    def backward(self, d):
        self.dW, self.db = self.x.T @ d, d.sum(axis=0)
        return d @ self.W.T

    def step(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db


class ReLU:
    def forward(self, x, train=True):
        self.on = x > 0
        return x * self.on

    def backward(self, d):
        return d * self.on

    def step(self, lr):
        pass


class Dropout:
    def __init__(self, rate, rng):
        self.rate, self.rng = rate, rng

    def forward(self, x, train=True):
        if not train:
            return x
        self.mask = (self.rng.random(x.shape) > self.rate) / (1 - self.rate)
        return x * self.mask

    def backward(self, d):
        return d * self.mask

    def step(self, lr):
        pass


def softmax_loss(s, y):
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    n = len(y)
    d = p.copy()
    d[np.arange(n), y] -= 1
    return -np.mean(np.log(p[np.arange(n), y])), d / n


rng = np.random.default_rng(3)
X = rng.normal(size=(200, 4))
y = np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5])
net = [Dense(4, 32, rng), ReLU(), Dropout(0.3, rng), Dense(32, 3, rng)]
for epoch in range(150):
    out = X
    for layer in net:
        out = layer.forward(out)
    loss, d = softmax_loss(out, y)
    for layer in reversed(net):
        d = layer.backward(d)
    for layer in net:
        layer.step(0.3)
'''


def _named(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-dropout-noise"]


def test_usual_keep_probabilities_in_a_flat_script_are_clean(tmp_path):
    for keep in ("0.8", "0.5"):
        report = check(planted(tmp_path, "train.py", SCRIPT, "keep_prob = 0.8", f"keep_prob = {keep}"), training=True)
        assert errors(report) == [] and _named(report) == []


def test_a_tiny_keep_probability_is_named_where_it_is_set(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "keep_prob = 0.8", "keep_prob = 0.05")
    report = check(path, training=True)
    (finding,) = _named(report)
    assert finding["line"] == line_of(path, "keep_prob = 0.05")
    assert line_of(path, "mask = (np.random.rand") in finding["highlight"]
    assert "keeps only 5% of the units" in finding["message"] and "keep probability" in finding["message"]
    assert report["findings"][0]["name"] == "step-dropout-noise"


def test_a_usual_drop_rate_in_a_layer_class_is_clean(tmp_path):
    report = check(planted(tmp_path, "layers.py", LAYERS, "Dropout(0.3, rng)", "Dropout(0.3, rng)"), training=True)
    assert errors(report) == [] and _named(report) == []


def test_a_drop_rate_that_drops_nearly_everything_is_named_at_the_constructor(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "Dropout(0.3, rng)", "Dropout(rate=0.95, rng=rng)")
    (finding,) = _named(check(path, training=True))
    assert finding["line"] == line_of(path, "Dropout(rate=0.95")
    assert "keeps only 5% of the units" in finding["message"] and "`rate` is the rate of units dropped" in finding["message"]


def test_a_rare_draw_outside_the_pass_is_no_dropout(tmp_path):
    source = SCRIPT.replace(
        "keep_prob = 0.8\n",
        "keep_prob = 0.8\nheld_out = np.random.rand(240) < 0.05\nX_val, y_val = X[held_out], y[held_out]\n",
    )
    report = check(planted(tmp_path, "train.py", source, "keep_prob = 0.8\n", "keep_prob = 0.8\n"), training=True)
    assert errors(report) == [] and _named(report) == []
