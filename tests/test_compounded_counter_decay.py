"""A learning-rate decay that reads the epoch counter and multiplies the rate it already decayed
(`lr *= 0.92 ** ep`, `lr = lr * np.exp(-k * epoch)`): the factors compound, so the rate is their
product (0.92 ** (ep(ep+1)/2)) and is gone a third of the way through training, while the schedule it
stands for (`lr0 * 0.92 ** ep`) would still be a third of its first value there. Named at the
schedule's line; the twins that decay from the first rate are clean."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, line_of, planted

SCRIPT = """
import numpy as np

rs = np.random.RandomState(12)
pts = rs.randn(240, 2)
cls = (pts[:, 0] * pts[:, 1] > 0).astype(float)
P = rs.randn(2, 12) * 0.8
q = np.zeros(12)
r = rs.randn(12) * 0.3
s = 0.0
eta = 0.5
eta0 = eta
for ep in range(36):
    eta = eta0 * 0.92 ** ep
    for k in range(0, 240, 40):
        xb, tb = pts[k:k + 40], cls[k:k + 40]
        hid = np.tanh(xb @ P + q)
        prob = 1 / (1 + np.exp(-(hid @ r + s)))
        ce = -np.mean(tb * np.log(prob + 1e-12) + (1 - tb) * np.log(1 - prob + 1e-12))
        g = (prob - tb) / len(xb)
        gr, gs = hid.T @ g, g.sum()
        gh = np.outer(g, r) * (1 - hid ** 2)
        gP, gq = xb.T @ gh, gh.sum(0)
        P -= eta * gP
        q -= eta * gq
        r -= eta * gr
        s -= eta * gs
print(ce)
"""

FUNCTION = """
import numpy as np


def train(x, y, epochs=40, lr=0.1):
    rng = np.random.default_rng(3)
    w = rng.normal(size=(x.shape[1], 1)) * 0.1
    b = np.zeros(1)
    start = lr
    for epoch in range(epochs):
        lr = start * np.exp(-0.05 * epoch)
        for i in range(0, len(x), 25):
            xb, yb = x[i:i + 25], y[i:i + 25]
            diff = xb @ w + b - yb
            mse = np.mean(diff ** 2)
            dw = 2 * xb.T @ diff / len(xb)
            db = 2 * diff.mean(axis=0)
            w -= lr * dw
            b -= lr * db
    return w, b, mse


data = np.random.default_rng(9).normal(size=(100, 3))
print(train(data, data @ np.array([[1.0], [-0.5], [2.0]]) + 0.1)[2])
"""

SCRIPT_RIGHT = "eta = eta0 * 0.92 ** ep"
SCRIPT_COMPOUNDED = "eta *= 0.92 ** ep"
FUNCTION_RIGHT = "lr = start * np.exp(-0.05 * epoch)"
FUNCTION_COMPOUNDED = "lr = lr * np.exp(-0.05 * epoch)"


def vanishing(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-vanishes"]


def test_decays_from_the_first_rate_are_clean(tmp_path: Path) -> None:
    assert vanishing(check(planted(tmp_path, "script.py", SCRIPT, SCRIPT_RIGHT, SCRIPT_RIGHT), training=True)) == []
    assert vanishing(check(planted(tmp_path, "function.py", FUNCTION, FUNCTION_RIGHT, FUNCTION_RIGHT), training=True)) == []


def test_a_compounded_power_of_the_epoch_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "script.py", SCRIPT, SCRIPT_RIGHT, SCRIPT_COMPOUNDED)
    (finding,) = vanishing(check(path, training=True))
    assert finding["line"] == line_of(path, SCRIPT_COMPOUNDED)
    assert "reads `ep` and is applied to the rate the passes before already decayed, so the factors compound" in finding["message"]
    assert "`eta = eta0 * 0.92 ** ep`" in finding["message"]


def test_a_compounded_exponential_in_a_train_function_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "function.py", FUNCTION, FUNCTION_RIGHT, FUNCTION_COMPOUNDED)
    (finding,) = vanishing(check(path, training=True))
    assert finding["line"] == line_of(path, FUNCTION_COMPOUNDED)
    assert "so the factors compound" in finding["message"] and "to a thousandth of that by `epoch` = " in finding["message"]
