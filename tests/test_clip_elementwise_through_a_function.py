"""An element-wise clip of the gradients (`np.clip(g, -c, c)`) written inline or inside a function of the
file that the step calls once per list of gradients (`clip_each(gw, c)` then `clip_each(gb, c)`) bounds
every entry at `c`: an update whose entries sit at the bound is the gradient clipped, not another
array's gradient. The replay reads the bound through the function's parameter at each call
(`replay.gradients._bound_through_calls`); entries at it are left out of the comparison, so a clip so
tight that every entry is at it (a sign pattern times 1e-6) is never taken for a wrong gradient.
Programs written for these tests, in two styles: a flat script clipping each gradient inline, and a
class whose step clips its lists of gradients through a helper function."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

INLINE = '''\
import numpy as np

rs = np.random.RandomState(3)
X = rs.uniform(-2, 2, size=(120, 2))
t = (np.sin(2 * X[:, :1]) + X[:, 1:] ** 2) * 3.0
W1 = rs.randn(2, 16) * 0.7
b1 = np.zeros(16)
W2 = rs.randn(16, 1) * 0.3
b2 = np.zeros(1)
LIMIT = 5.0
step = 0.1
for epoch in range(300):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    cost = np.mean((out - t) ** 2)
    d = 2 * (out - t) / len(X)
    dW2 = h.T @ d
    db2 = d.sum(axis=0)
    dh = d @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    dW1 = np.clip(dW1, -LIMIT, LIMIT)
    db1 = np.clip(db1, -LIMIT, LIMIT)
    dW2 = np.clip(dW2, -LIMIT, LIMIT)
    db2 = np.clip(db2, -LIMIT, LIMIT)
    W1 -= step * dW1
    b1 -= step * db1
    W2 -= step * dW2
    b2 -= step * db2
    if epoch % 50 == 0:
        print(epoch, cost)
'''

HELPER = '''\
import numpy as np


def bound_entries(arrays, cap):
    return [np.clip(a, -cap, cap) for a in arrays]


class Regressor:
    def __init__(self, n_in, n_hidden, rng):
        self.weights = [rng.normal(0, 0.6, (n_in, n_hidden)), rng.normal(0, 0.3, (n_hidden, 1))]
        self.biases = [np.zeros(n_hidden), np.zeros(1)]

    def run(self, x):
        self.h = np.maximum(0, x @ self.weights[0] + self.biases[0])
        return self.h @ self.weights[1] + self.biases[1]

    def grads(self, x, err):
        dV = self.h.T @ err
        dv = err.sum(axis=0)
        dh = (err @ self.weights[1].T) * (self.h > 0)
        return [x.T @ dh, dV], [dh.sum(axis=0), dv]


gen = np.random.default_rng(11)
inputs = gen.uniform(-1, 1, (200, 3))
targets = inputs @ np.array([[2.0], [-3.0], [1.5]]) + np.abs(inputs[:, :1]) * 4
model = Regressor(3, 24, gen)
rate = 0.02
cap = 1.0
for it in range(250):
    pred = model.run(inputs)
    loss = 0.5 * np.mean(np.sum((pred - targets) ** 2, axis=1))
    gw, gb = model.grads(inputs, (pred - targets) / len(inputs))
    gw = bound_entries(gw, cap)
    gb = bound_entries(gb, cap)
    for w, g in zip(model.weights, gw):
        w -= rate * g
    for b, g in zip(model.biases, gb):
        b -= rate * g
    if it % 50 == 0:
        print(it, loss)
'''


def _mismatches(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD108"]


def test_an_inline_clip_that_bites_is_clean(tmp_path):
    report = check(write(tmp_path, "inline.py", INLINE))
    assert errors(report) == []
    measured = {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}
    assert set(measured) == {"W1", "b1", "W2"} and not any(measured.values())  # b2's one entry is at the bound: left out


def test_a_clip_through_a_helper_that_bites_is_clean(tmp_path):
    report = check(write(tmp_path, "helper.py", HELPER))
    assert errors(report) == []
    measured = {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}
    assert set(measured) == {"model.weights[0]", "model.weights[1]", "model.biases[0]"} and not any(measured.values())  # the output bias's one entry is at the bound


def test_a_tiny_inline_clip_is_not_a_wrong_gradient(tmp_path):
    report = check(planted(tmp_path, "inline.py", INLINE, "LIMIT = 5.0", "LIMIT = 1e-6"))
    assert _mismatches(report) == []
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_tiny_clip_through_a_helper_is_not_a_wrong_gradient(tmp_path):
    report = check(planted(tmp_path, "helper.py", HELPER, "cap = 1.0", "cap = 1e-6"))
    assert _mismatches(report) == []
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_wrong_gradient_beside_the_helper_clip_is_still_named(tmp_path):
    path = planted(tmp_path, "helper.py", HELPER, "dv = err.sum(axis=0)", "dv = 3 * err.sum(axis=0)")
    path.write_text(path.read_text().replace("cap = 1.0", "cap = 100.0"))
    (finding,) = _mismatches(report := check(path))
    assert finding["param"] == "model.biases[1]", report["findings"]

