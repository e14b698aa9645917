"""A hidden ReLU layer whose bias starts far below zero (`b1 = np.full(H, -10.0)`): no unit fires from
the first step on and nothing the weights do reaches it. The bias is named at the line that makes it,
with zeros as the fix; the same layer with its bias at zero is clean.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(12)
X = rng.normal(size=(300, 4))
y = (np.abs(X[:, 0]) + X[:, 1] * X[:, 2]).reshape(-1, 1)
W1 = rng.normal(0, np.sqrt(2.0 / 4), size=(4, 24))
b1 = np.zeros(24)
W2 = rng.normal(0, np.sqrt(1.0 / 24), size=(24, 1))
b2 = np.zeros(1)
for it in range(500):
    z = X @ W1 + b1
    a = np.maximum(z, 0.0)
    out = a @ W2 + b2
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / len(X)
    dW2 = a.T @ dout
    db2 = dout.sum(axis=0)
    dz = dout @ W2.T * (z > 0)
    dW1 = X.T @ dz
    db1 = dz.sum(axis=0)
    W1 -= 0.05 * dW1
    b1 -= 0.05 * db1
    W2 -= 0.05 * dW2
    b2 -= 0.05 * db2
'''

ZERO = "b1 = np.zeros(24)\n"


def dead(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD612"]


def test_the_negative_bias_is_named(tmp_path):
    path = planted(tmp_path, "relu.py", PROGRAM, ZERO, "b1 = np.full(24, -10.0)\n")
    (found,) = dead(check(path, training=True))
    assert found["line"] == line_of(path, "b1 = np.full(24, -10.0)")
    assert "`b1` starts at -10" in found["message"]


def test_a_zero_bias_is_clean(tmp_path):
    assert dead(check(planted(tmp_path, "relu.py", PROGRAM, ZERO, ZERO), training=True)) == []
