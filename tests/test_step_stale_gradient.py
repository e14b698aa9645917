"""A gradient computed once before the training loop and applied at every pass: the replay reads
the same gradient values at two passes while the weights moved. An error at the loop's statement
that throws the new gradient away (or where the old one is bound), not a clean report.

Three styles: a model class whose `loss` returns `(loss, grads)` and an `apply(grads, lr)` (seen at
run time: the same values at two passes), a flat script with gradient functions, and a params dict
updated key by key (both read from the source: the replay takes them for one step made once). The
twins compute the gradient inside the loop.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

MODEL = '''\
import numpy as np


class Model:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(size=(n_in, n_hidden)) * 0.5
        self.b1 = np.zeros(n_hidden)
        self.w2 = rng.normal(size=n_hidden) * 0.5
        self.b2 = 0.0

    def loss(self, X, y):
        h = np.maximum(0, X @ self.W1 + self.b1)
        z = h @ self.w2 + self.b2
        p = 1 / (1 + np.exp(-z))
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        dz = (p - y) / len(y)
        dh = np.outer(dz, self.w2) * (h > 0)
        return loss, {"W1": X.T @ dh, "b1": dh.sum(axis=0), "w2": h.T @ dz, "b2": dz.sum()}

    def apply(self, grads, lr):
        self.W1 -= lr * grads["W1"]
        self.b1 -= lr * grads["b1"]
        self.w2 -= lr * grads["w2"]
        self.b2 -= lr * grads["b2"]


rng = np.random.default_rng(9)
X = rng.normal(size=(300, 2))
y = (np.abs(X[:, 0]) + np.abs(X[:, 1]) < 1.5).astype(float)
model = Model(2, 12, seed=2)
lr = 0.5
for step in range(300):
    loss, grads = model.loss(X, y)
    model.apply(grads, lr)
    if step % 50 == 0:
        print(step, loss)
'''

FLAT = '''\
import numpy as np


def predict(X, w, b):
    return np.tanh(X @ w + b)


def gradients(X, y, w, b):
    out = predict(X, w, b)
    d = 2 * (out - y) * (1 - out ** 2) / len(y)
    return X.T @ d, d.sum()


rng = np.random.default_rng(4)
X = rng.normal(size=(200, 3))
y = np.tanh(X @ np.array([0.8, -0.5, 0.3]) + 0.1)
w = rng.normal(size=3) * 0.1
b = 0.0
lr = 0.3
for epoch in range(200):
    dw, db = gradients(X, y, w, b)
    w -= lr * dw
    b -= lr * db
    loss = np.mean((predict(X, w, b) - y) ** 2)
    if epoch % 40 == 0:
        print(epoch, loss)
'''

DICT = '''\
import numpy as np


def forward_backward(params, X, y):
    h = np.tanh(X @ params["W"] + params["b"])
    out = h @ params["v"]
    loss = 0.5 * np.mean((out - y) ** 2)
    dout = (out - y) / len(y)
    dh = np.outer(dout, params["v"]) * (1 - h ** 2)
    return loss, {"W": X.T @ dh, "b": dh.sum(axis=0), "v": h.T @ dout}


rng = np.random.default_rng(6)
X = rng.normal(size=(160, 3))
y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
params = {"W": rng.normal(size=(3, 10)) * 0.5, "b": np.zeros(10), "v": rng.normal(size=10) * 0.3}
lr = 0.2
for epoch in range(300):
    loss, grads = forward_backward(params, X, y)
    for k in params:
        params[k] -= lr * grads[k]
    if epoch % 60 == 0:
        print(epoch, loss)
'''

DICT_STALE = (
    "for epoch in range(300):\n    loss, grads = forward_backward(params, X, y)\n    for k in params:\n        params[k] -= lr * grads[k]\n",
    "loss, grads = forward_backward(params, X, y)\nfor epoch in range(300):\n    for k in params:\n        params[k] -= lr * grads[k]\n"
    "    loss, _ = forward_backward(params, X, y)\n",
    "    loss, _ = forward_backward(params, X, y)",
)

MODEL_STALE = (
    "for step in range(300):\n    loss, grads = model.loss(X, y)\n    model.apply(grads, lr)\n",
    "loss, grads = model.loss(X, y)\nfor step in range(300):\n    model.apply(grads, lr)\n    loss, _ = model.loss(X, y)\n",
    "    loss, _ = model.loss(X, y)",
)
FLAT_STALE = (
    "for epoch in range(200):\n    dw, db = gradients(X, y, w, b)\n",
    "dw, db = gradients(X, y, w, b)\nfor epoch in range(200):\n",
    "dw, db = gradients(X, y, w, b)",
)


@pytest.mark.parametrize(
    "text, stale", [(MODEL, MODEL_STALE), (FLAT, FLAT_STALE), (DICT, DICT_STALE)], ids=["model-class", "flat-script", "params-dict"]
)
def test_a_gradient_computed_once_before_the_loop_is_an_error(tmp_path, text, stale):
    correct, wrong, at = stale
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    found = [f for f in errors(report) if f["name"] == "step-stale-gradient"]
    assert len(found) == 1, [f["name"] for f in errors(report)]
    finding = found[0]
    assert (finding["code"], finding["pattern"], finding["line"]) == ("BPD633", "gradient-computed-once", line_of(path, at))
    assert "the same values at every pass" in finding["message"]
    assert report["findings"][report["root_cause"]]["name"] == "step-stale-gradient"


@pytest.mark.parametrize("text", [MODEL, FLAT, DICT], ids=["model-class", "flat-script", "params-dict"])
def test_a_gradient_computed_at_every_pass_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
