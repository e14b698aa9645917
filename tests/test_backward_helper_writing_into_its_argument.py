"""A backward helper that writes into the gradient it is handed, which the caller reads again.

    dskip = dout @ W3.T
    dh2 = leaky_backward(dskip, z2)      # writes into dskip
    dh1 = dskip + dh2 @ W2.T             # reads dskip, no longer what was computed

`dskip` is right where it is computed and `dh1` is wrong although it is computed from right
gradients: the helper that changed `dskip` in place is named, at the line that makes its result
the argument itself, or at the write."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PROGRAM = """
import numpy as np


def leaky(z):
    return np.where(z > 0, z, 0.1 * z)


def leaky_backward(grad, z):
    out = grad.copy()
    out[z < 0] *= 0.1
    return out


rng = np.random.default_rng(9)
X = rng.normal(size=(40, 3))
Y = np.tanh(X @ rng.normal(size=(3, 1)))
W1, W2, W3 = rng.normal(scale=0.5, size=(3, 6)), rng.normal(scale=0.5, size=(6, 6)), rng.normal(scale=0.5, size=(6, 1))
for it in range(200):
    z1 = X @ W1
    h1 = leaky(z1)
    z2 = h1 @ W2
    skip = h1 + leaky(z2)
    out = skip @ W3
    loss = 0.5 * np.mean((out - Y) ** 2)
    dout = (out - Y) / len(X)
    dW3 = skip.T @ dout
    dskip = dout @ W3.T
    dz2 = leaky_backward(dskip, z2)
    dW2 = h1.T @ dz2
    dh1 = dskip + dz2 @ W2.T
    dz1 = leaky_backward(dh1, z1)
    dW1 = X.T @ dz1
    W1 -= 0.1 * dW1
    W2 -= 0.1 * dW2
    W3 -= 0.1 * dW3
"""

COPY = "    out = grad.copy()\n"
ALIAS = "    out = grad\n"


def test_a_helper_that_works_on_a_copy_gets_no_error(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "skip.py", PROGRAM, COPY, COPY))) == []


def test_a_helper_whose_result_is_its_argument_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "skip.py", PROGRAM, COPY, ALIAS)
    (finding,) = errors(check(path))
    assert (finding["param"], finding["pattern"], finding["line"]) == ("dskip", "argument-mutated", line_of(path, "out = grad"))
    assert f"`leaky_backward(dskip, ...)` (line {line_of(path, 'dz2 = leaky_backward(dskip, z2)')}) writes into `dskip` in place" in finding["message"]
    assert "(`out = grad.copy()`)" in finding["message"]

