"""Adam written out in a training script: a bias correction without the update count.

`m_hat = m / (1 - beta1)` equals Adam's `m / (1 - beta1 ** t)` at the first update only, so the
replay of the first step cannot see it; the statement itself says it. The correct twin, and a
moving average that only multiplies by `1 - beta1`, get no finding."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, line_of, planted

PROGRAM = """
import numpy as np

rng = np.random.default_rng(11)
X = rng.normal(size=(80, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
w, b = np.zeros(3), 0.0
mw, vw = np.zeros(3), np.zeros(3)
beta1, beta2, lr, eps = 0.9, 0.999, 0.05, 1e-8
t = 0
for epoch in range(300):
    err = X @ w + b - y
    loss = np.mean(err ** 2)
    gw = 2 * X.T @ err / len(X)
    gb = 2 * err.mean()
    t += 1
    mw = beta1 * mw + (1 - beta1) * gw
    vw = beta2 * vw + (1 - beta2) * gw ** 2
    mw_hat = mw / (1 - beta1 ** t)
    vw_hat = vw / (1 - beta2 ** t)
    w -= lr * mw_hat / (np.sqrt(vw_hat) + eps)
    b -= lr * gb
"""

CORRECTED = "vw_hat = vw / (1 - beta2 ** t)"
UNCOUNTED = "vw_hat = vw / (1 - beta2)"


def adam(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD208"]


def test_a_script_with_both_corrections_counted_gets_no_adam_finding(tmp_path: Path) -> None:
    assert adam(check(planted(tmp_path, "adam.py", PROGRAM, CORRECTED, CORRECTED))) == []


def test_a_correction_without_the_count_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "adam.py", PROGRAM, CORRECTED, UNCOUNTED)
    (finding,) = adam(check(path))
    assert (finding["line"], finding["severity"], finding["pattern"]) == (line_of(path, UNCOUNTED), "warning", "correction-without-count")
    assert "divides by `1 - beta2`, Adam's bias correction without the update count" in finding["message"]
    assert "divide by `1 - beta2 ** t`" in finding["message"]
