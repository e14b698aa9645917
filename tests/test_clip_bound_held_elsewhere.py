"""An element-wise clip whose bound the step holds where it cannot be read as a number (`self.clip_at`,
`config["clip"]`) still leaves its mark on the gradients: every clipped entry has the bound's magnitude.
The replay takes the largest magnitude two or more entries share as the bound when the step clips between
a bound and its negative (`replay.gradients._bound_reached`), so a tiny clip is not a wrong gradient, and
a correct clip that bites is clean. Programs written for these tests, in two styles: a class holding the
bound as an attribute, clipping through a helper; a flat script clipping inline at a settings dict's entry.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

HELD = '''\
import numpy as np


def bounded(grads, limit):
    return [np.clip(g, -limit, limit) for g in grads]


class Fitter:
    def __init__(self, seed=4):
        rng = np.random.default_rng(seed)
        self.clip_at = 0.5
        self.A = rng.normal(0, 0.5, (2, 20))
        self.a = np.zeros(20)
        self.B = rng.normal(0, 0.3, (20, 1))
        self.b = np.zeros(1)
        self.params = [self.A, self.a, self.B, self.b]

    def run_batch(self, x, y):
        h = np.tanh(x @ self.A + self.a)
        out = h @ self.B + self.b
        r = out - y
        d = 2 * r / len(x)
        dh = d @ self.B.T * (1 - h ** 2)
        return np.mean(r ** 2), [x.T @ dh, dh.sum(axis=0), h.T @ d, d.sum(axis=0)]


rng = np.random.default_rng(9)
x = rng.uniform(-2, 2, (100, 2))
y = np.cos(x[:, :1]) * x[:, 1:] * 2.0
net = Fitter()
lr = 0.05
for it in range(300):
    loss, grads = net.run_batch(x, y)
    grads = bounded(grads, net.clip_at)
    for p, g in zip(net.params, grads):
        p -= lr * g
    if it % 100 == 0:
        print(it, loss)
'''

SETTINGS = '''\
import numpy as np

config = {"lr": 0.1, "clip": 1.0, "epochs": 250}
rs = np.random.RandomState(8)
X = rs.randn(90, 3)
Y = (X[:, :1] - 2 * X[:, 1:2] * X[:, 2:3]) * 3.0
W1 = rs.randn(3, 14) * 0.5
b1 = np.zeros(14)
W2 = rs.randn(14, 1) * 0.3
b2 = np.zeros(1)
for epoch in range(config["epochs"]):
    H = np.maximum(0, X @ W1 + b1)
    P = H @ W2 + b2
    mse = np.mean((P - Y) ** 2)
    dP = 2 * (P - Y) / len(X)
    dW2 = np.clip(H.T @ dP, -config["clip"], config["clip"])
    db2 = np.clip(dP.sum(axis=0), -config["clip"], config["clip"])
    dH = dP @ W2.T * (H > 0)
    dW1 = np.clip(X.T @ dH, -config["clip"], config["clip"])
    db1 = np.clip(dH.sum(axis=0), -config["clip"], config["clip"])
    W1 -= config["lr"] * dW1
    b1 -= config["lr"] * db1
    W2 -= config["lr"] * dW2
    b2 -= config["lr"] * db2
'''


def _mismatches(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD108"]


def test_a_held_bound_that_bites_is_clean(tmp_path):
    report = check(write(tmp_path, "held.py", HELD))
    assert errors(report) == [], report["findings"]
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_settings_bound_that_bites_is_clean(tmp_path):
    report = check(write(tmp_path, "settings.py", SETTINGS))
    assert errors(report) == [], report["findings"]
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_tiny_held_bound_is_not_a_wrong_gradient(tmp_path):
    report = check(planted(tmp_path, "held.py", HELD, "self.clip_at = 0.5", "self.clip_at = 1e-6"))
    assert _mismatches(report) == [], report["findings"]


def test_a_tiny_settings_bound_is_not_a_wrong_gradient(tmp_path):
    report = check(planted(tmp_path, "settings.py", SETTINGS, '"clip": 1.0', '"clip": 1e-6'))
    assert _mismatches(report) == [], report["findings"]


def test_a_wrong_gradient_under_a_held_bound_is_still_named(tmp_path):
    path = planted(tmp_path, "held.py", HELD, "dh.sum(axis=0), h.T @ d", "dh.sum(axis=0), 3 * h.T @ d")
    path.write_text(path.read_text().replace("self.clip_at = 0.5", "self.clip_at = 100.0"))
    (finding,) = _mismatches(report := check(path))
    assert finding["param"] == "net.B", report["findings"]
