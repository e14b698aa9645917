"""A gradient summed sample by sample in a loop inside the training step (`dw += err * X[i] / n`)
is computed in that loop: a wrong one is named there, not at the `dw = np.zeros(3)` before it."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = """\
import numpy as np

np.random.seed(0)
X = np.random.randn(50, 3)
y = X @ np.array([1.5, -2.0, 0.7]) + 0.5
w = np.zeros(3)
b = 0.0
for epoch in range(100):
    dw = np.zeros(3)
    db = 0.0
    loss = 0.0
    for i in range(len(X)):
        err = X[i] @ w + b - y[i]
        loss += 0.5 * err ** 2 / len(X)
        dw += err * X[i] / len(X)
        db += err / len(X)
    w -= 0.1 * dw
    b -= 0.1 * db
"""


def test_the_right_script_passes(tmp_path):
    path = planted(tmp_path, "per_sample.py", SCRIPT, "", "")
    assert errors(check(path)) == []


def test_a_gradient_assigned_instead_of_summed_is_named_in_the_loop(tmp_path):
    path = planted(tmp_path, "per_sample.py", SCRIPT, "dw += err * X[i]", "dw = err * X[i]")
    (finding,) = [f for f in errors(check(path)) if f["param"] == "w"]
    assert f"computed at line {line_of(path, 'dw = err * X[i]')}" in finding["message"]
    assert line_of(path, "dw = err * X[i]") in finding["highlight"]
