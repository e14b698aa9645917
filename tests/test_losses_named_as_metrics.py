"""A loss named by its metric (`mae`, `nll`), not `loss`: it is the program's loss all the same.

A regression trained on the mean absolute error it prints, whose output gradient is the squared
error's `(pred - y) / n`, follows another loss than the one it computes: the output gradient is
named, with the loss it does follow."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed

PROGRAM = """
import numpy as np

rng = np.random.default_rng(3)
x = rng.uniform(-2, 2, size=(120, 1))
y = np.cos(x) + 0.05 * rng.standard_normal((120, 1))
W1, b1 = rng.standard_normal((1, 10)), np.zeros(10)
W2, b2 = rng.standard_normal((10, 1)) * 0.3, np.zeros(1)
for it in range(500):
    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    mae = np.mean(np.abs(out - y))
    dout = np.sign(out - y) / len(x)
    dW2, db2 = h.T @ dout, dout.sum(axis=0)
    dz = (dout @ W2.T) * (1 - h ** 2)
    dW1, db1 = x.T @ dz, dz.sum(axis=0)
    W1 -= 0.05 * dW1
    b1 -= 0.05 * db1
    W2 -= 0.05 * dW2
    b2 -= 0.05 * db2
"""

OUTPUT = "dout = np.sign(out - y) / len(x)"
SQUARED_ERRORS = "dout = (out - y) / len(x)"


def test_the_mean_absolute_error_a_program_prints_is_its_loss(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "mae.py", PROGRAM, OUTPUT, OUTPUT))
    assert errors(report) == []
    assert replayed(report)["loss"] == "mae"


def test_a_squared_error_gradient_under_an_absolute_error_is_named_at_the_output_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "mae.py", PROGRAM, OUTPUT, SQUARED_ERRORS)
    (finding,) = errors(check(path))
    assert (finding["param"], finding["line"], finding["pattern"]) == ("dout", line_of(path, SQUARED_ERRORS), "gradient-of-another-loss")
    assert "is the gradient of the squared error" in finding["message"]
    assert f"not of `mae` (line {line_of(path, 'mae = np.mean')})" in finding["message"]
