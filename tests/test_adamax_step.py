"""Adamax (Adam with the infinity norm): `m = b1 * m + (1 - b1) * g`, `u = np.maximum(b2 * u, np.abs(g))`,
`p -= lr / (1 - b1 ** t) * m / (u + eps)`. The step divides by the running maximum of the gradient's size, so
it is adaptive: the gradient compared is the `g` behind it (a correct flat loop was a step-gradient-mismatch
false alarm, "uses `mW / ... / (uW + eps)` ... not the gradient"). The running maximum of `g` itself, the
absolute value left out, stays at 0 where the gradient is negative, and the step is divided by eps alone:
adam-step-wrong names that statement, an error, with the fix.

Three styles: an optimizer class with `update(params, grads)` over a dict, a flat loop over two arrays,
and cs231n's optimizer function `adamax(w, dw, config=None) -> (next_w, config)`.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

CLASS = '''\
import numpy as np


class InfinityNormAdam:
    def __init__(self, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.t = 0
        self.first, self.inf = {}, {}

    def update(self, params, grads):
        self.t += 1
        for name, value in params.items():
            grad = grads[name]
            if name not in self.first:
                self.first[name] = np.zeros_like(value)
                self.inf[name] = np.zeros_like(value)
            self.first[name] = self.b1 * self.first[name] + (1 - self.b1) * grad
            self.inf[name] = np.maximum(self.b2 * self.inf[name], np.abs(grad))
            value -= (self.lr / (1 - self.b1 ** self.t)) * self.first[name] / (self.inf[name] + self.eps)


def forward_backward(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    err = out - y
    dout = 2 * err / len(y)
    dh = (dout @ params["W2"].T) * (1 - h ** 2)
    grads = {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dout, "b2": dout.sum(axis=0)}
    return np.mean(err ** 2), grads


rng = np.random.RandomState(11)
X = rng.uniform(-1, 1, (150, 3))
y = np.sin(2 * X[:, :1]) - X[:, 1:2] * X[:, 2:]
params = {"W1": rng.randn(3, 12) * 0.6, "b1": np.zeros(12), "W2": rng.randn(12, 1) * 0.3, "b2": np.zeros(1)}
optimizer = InfinityNormAdam(lr=0.01)
for it in range(250):
    loss, grads = forward_backward(params, X, y)
    optimizer.update(params, grads)
    if it % 50 == 0:
        print(it, loss)
'''

FLAT = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(150, 4))
t = (X[:, 0] - X[:, 2] > 0).astype(float).reshape(-1, 1)
W = rng.normal(0, 0.5, (4, 1))
b = np.zeros((1, 1))
mW, uW = np.zeros_like(W), np.zeros_like(W)
mb, ub = np.zeros_like(b), np.zeros_like(b)
lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
for step in range(1, 201):
    p = 1 / (1 + np.exp(-(X @ W + b)))
    loss = -np.mean(t * np.log(p + 1e-12) + (1 - t) * np.log(1 - p + 1e-12))
    dz = (p - t) / len(X)
    dW = X.T @ dz
    db = dz.sum(axis=0, keepdims=True)
    mW = b1 * mW + (1 - b1) * dW
    uW = np.maximum(b2 * uW, np.abs(dW))
    W -= lr / (1 - b1 ** step) * mW / (uW + eps)
    mb = b1 * mb + (1 - b1) * db
    ub = np.maximum(b2 * ub, np.abs(db))
    b -= lr / (1 - b1 ** step) * mb / (ub + eps)
    if step % 50 == 0:
        print(step, loss)
'''

FUNCTION = '''\
import numpy as np


def adamax(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 2e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("u", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["u"] = np.maximum(config["beta2"] * config["u"], np.abs(dw))
    step = config["learning_rate"] / (1 - config["beta1"] ** config["t"])
    next_w = w - step * config["m"] / (config["u"] + config["epsilon"])
    return next_w, config


rng = np.random.default_rng(5)
X = rng.normal(size=(120, 3))
y = X @ np.array([1.5, -2.0, 0.5]) + 0.3
w = np.zeros(3)
cfg = None
for it in range(300):
    r = X @ w - y
    loss = np.mean(r ** 2)
    grad = 2 * X.T @ r / len(X)
    w, cfg = adamax(w, grad, cfg)
    if it % 100 == 0:
        print(it, loss)
'''

UNSIGNED = [
    (CLASS, "np.maximum(self.b2 * self.inf[name], np.abs(grad))", "np.maximum(self.b2 * self.inf[name], grad)"),
    (FLAT, "uW = np.maximum(b2 * uW, np.abs(dW))", "uW = np.maximum(b2 * uW, dW)"),
    (FUNCTION, 'np.maximum(config["beta2"] * config["u"], np.abs(dw))', 'np.maximum(config["beta2"] * config["u"], dw)'),
]
IDS = ["optimizer-class", "flat-loop", "optimizer-function"]


@pytest.mark.parametrize("text", [CLASS, FLAT, FUNCTION], ids=IDS)
def test_a_correct_adamax_is_clean(tmp_path, text):
    path = planted(tmp_path, "adamax.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] == "adam-step-wrong"] == []


@pytest.mark.parametrize("text, correct, wrong", UNSIGNED, ids=IDS)
def test_the_running_maximum_of_the_signed_gradient_is_named_at_its_line(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "adamax.py", text, correct, wrong)
    report = check(path, training=True)
    (found,) = [f for f in report["findings"] if f["name"] == "adam-step-wrong"]
    assert found["severity"] == "error"
    assert found["line"] == line_of(path, wrong)
    assert found["pattern"] == "unsigned-infinity-norm"
    assert "np.abs(" in found["fix"]
    assert report["root_cause"] == report["findings"].index(found)


def test_the_measured_optimizer_says_how_far_it_moved(tmp_path):
    text, correct, wrong = UNSIGNED[0]
    path = planted(tmp_path, "adamax.py", text, correct, wrong)
    report = check(path)
    (found,) = [f for f in report["findings"] if f["name"] == "adam-step-wrong"]
    assert found["measured"] > 1e6  # an element moved by lr · g / eps: |g| / eps times Adamax's move


def test_an_adamax_step_with_the_gradient_replayed_is_adaptive(tmp_path):
    path = planted(tmp_path, "adamax.py", FLAT, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert report["extras"]["replay"][0]["not_replayed"] is None
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"W": "ok", "b": "ok"}
