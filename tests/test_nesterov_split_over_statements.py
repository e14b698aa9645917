"""Nesterov momentum written as the "gradient at the current weights" form, its step split over two
statements of one block: the velocity changed in place (`v *= mu; v -= lr * g`), then the parameter
moved by the velocity and by the gradient again (`p += mu * mu * v`, `p -= (1 + mu) * lr * g`).

The velocity holds minus the step, so adding it descends: the first statement's gradient is read
with the sign the in-place `-=` gives it, not the sign `+=` is written with. The second statement is
part of the same step, so its `(1 + mu)` is no factor the gradient is off by. Every form, a script's
plain names and an optimizer keeping one velocity entry per parameter (`self.vel[k]`, made on the first
step or in `__init__`; `self.buf[k]`, a velocity told by being decayed and changed in place, not by
its name), is clean; a velocity that adds the gradient is named at its own line, and a wrong
derivative under this momentum still is."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(7)
X = rng.normal(size=(200, 3))
y = (np.sin(X[:, :1]) + 0.5 * X[:, 1:2] ** 2).ravel()[:, None]

W1 = rng.normal(scale=0.4, size=(3, 12))
b1 = np.zeros(12)
W2 = rng.normal(scale=0.4, size=(12, 1))
vW1, vb1, vW2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2)
lr, mu = 0.05, 0.85

for it in range(400):
    h = np.tanh(X @ W1 + b1)
    pred = h @ W2
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(X)
    dW2 = h.T @ dpred
    dz = (dpred @ W2.T) * (1 - h ** 2)
    dW1 = X.T @ dz
    db1 = dz.sum(axis=0)
    for vel, grad in ((vW1, dW1), (vb1, db1), (vW2, dW2)):
        vel *= mu
    vW1 -= lr * dW1
    vb1 -= lr * db1
    vW2 -= lr * dW2
    W1 += mu * mu * vW1
    W1 -= (1 + mu) * lr * dW1
    b1 += mu * mu * vb1
    b1 -= (1 + mu) * lr * db1
    W2 += mu * mu * vW2
    W2 -= (1 + mu) * lr * dW2
    if it % 100 == 0:
        print(it, loss)
"""

OPTIMIZER = """\
import numpy as np


class LookAhead:
    \"\"\"Nesterov momentum with the gradient taken at the current weights.\"\"\"

    def __init__(self, eta=0.1, mu=0.8):
        self.eta, self.mu = eta, mu
        self.vel = {}

    def step(self, weights, g):
        for k in weights:
            if k not in self.vel:
                self.vel[k] = np.zeros_like(weights[k])
            self.vel[k] *= self.mu
            self.vel[k] -= self.eta * g[k]
            weights[k] += self.mu ** 2 * self.vel[k]
            weights[k] -= (1 + self.mu) * self.eta * g[k]


def forward_backward(weights, X, labels):
    n = len(X)
    a = np.maximum(0, X @ weights["A"] + weights["a"])
    s = a @ weights["B"]
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    cost = -np.log(p[np.arange(n), labels]).mean()
    ds = p.copy()
    ds[np.arange(n), labels] -= 1
    ds /= n
    da = ds @ weights["B"].T
    da[a <= 0] = 0
    return cost, {"A": X.T @ da, "a": da.sum(axis=0), "B": a.T @ ds}


rng = np.random.default_rng(21)
X = rng.normal(size=(300, 5))
labels = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
weights = {"A": rng.normal(scale=0.5, size=(5, 24)), "a": np.zeros(24), "B": rng.normal(scale=0.5, size=(24, 3))}
opt = LookAhead()
for epoch in range(150):
    order = rng.permutation(len(X))
    for i in range(0, len(X), 50):
        rows = order[i:i + 50]
        cost, g = forward_backward(weights, X[rows], labels[rows])
        opt.step(weights, g)
    if epoch % 50 == 0:
        print(epoch, cost)
"""

# the velocities made once in `__init__`, not on the first step
MADE_AHEAD = OPTIMIZER.replace(
    "    def __init__(self, eta=0.1, mu=0.8):\n        self.eta, self.mu = eta, mu\n        self.vel = {}\n",
    "    def __init__(self, weights, eta=0.1, mu=0.8):\n        self.eta, self.mu = eta, mu\n        self.vel = {k: np.zeros_like(w) for k, w in weights.items()}\n",
).replace("            if k not in self.vel:\n                self.vel[k] = np.zeros_like(weights[k])\n", "").replace("opt = LookAhead()", "opt = LookAhead(weights)")

FORMS = {
    "script": (SCRIPT, "    vW1 -= lr * dW1\n", "    vW1 += lr * dW1\n", {"W1", "b1", "W2"}),
    "optimizer": (OPTIMIZER, "self.vel[k] -= self.eta * g[k]", "self.vel[k] += self.eta * g[k]", {"weights['A']", "weights['a']", "weights['B']"}),
    "buffer": (OPTIMIZER.replace("self.vel", "self.buf"), "self.buf[k] -= self.eta * g[k]", "self.buf[k] += self.eta * g[k]", {"weights['A']", "weights['a']", "weights['B']"}),
    "made ahead": (MADE_AHEAD, "self.vel[k] -= self.eta * g[k]", "self.vel[k] += self.eta * g[k]", {"weights['A']", "weights['a']", "weights['B']"}),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_split_nesterov_step_is_clean(tmp_path, form):
    program, velocity, _, parameters = FORMS[form]
    report = check(planted(tmp_path, "train.py", program, velocity, velocity))
    assert errors(report) == []
    assert [f for f in report["findings"] if f["code"] == "BPD108"] == []
    assert {m["name"] for m in replayed(report)["parameters"]} == parameters
    assert set(step_verdicts(report).values()) == {"ok"}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_velocity_that_adds_the_gradient_is_named_at_its_line(tmp_path, form):
    program, velocity, flipped, _ = FORMS[form]
    path = planted(tmp_path, "train.py", program, velocity, flipped)
    (found,) = errors(check(path))
    assert (found["code"], found["line"]) == ("BPD108", line_of(path, flipped.strip()))
    assert f"`{flipped.strip()}`" in found["message"] and "climbs" in found["message"]


def test_a_wrong_derivative_under_the_split_step_is_named_once_per_parameter(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "dz = (dpred @ W2.T) * (1 - h ** 2)", "dz = (dpred @ W2.T) * (1 - h)")
    found = errors(check(path))
    assert [(f["code"], f["line"], f["param"]) for f in found] == [("BPD108", line_of(path, "dz = (dpred @ W2.T) * (1 - h)"), "dz")]
    assert "the updates of `W1`, `b1` in your training step" in found[0]["message"]
