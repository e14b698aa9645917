"""Weights that start with every unit the same: gradient descent cannot tell the units apart.

With `W1 = np.zeros(...)` and `W2 = np.zeros(...)` every hidden unit computes the same value and
gets the same gradient, so after any number of steps they are still copies of one unit (and with
ReLU at 0 they get no gradient at all). The gradients are right; the network is one unit wide.

Read from the replayed step's parameters as they were where the step was taken: a weight matrix's
units are its columns for `x @ W` and its rows for `W @ x`, and a matrix whose units are all equal
in one of those orientations is symmetric. Only when every weight matrix of the program (two or
more) is, is the symmetry never broken; a zero output layer behind random hidden weights is fine.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from backprop_doctor.replay.state import describe


_BIAS = re.compile(r"(?i)^(b\w{0,2}|b_\w+|bias\w*|biases)$")  # b1, bh, by, b_in, bias: a bias row is never a unit's weights


def _name(moved: Any) -> str:
    return describe(moved.path) if moved.path is not None else moved.site.update.target


def _last_name(name: str) -> str:
    return re.split(r"[.\[\]'\"]+", name.strip("]'\""))[-1]


def _units_equal(m: np.ndarray) -> bool:
    scale = float(np.max(np.abs(m))) if m.size else 0.0
    tol = 1e-12 * max(scale, 1e-300)
    columns = m.shape[1] > 1 and bool(np.all(np.abs(m - m[:, :1]) <= tol))
    rows = m.shape[0] > 1 and bool(np.all(np.abs(m - m[:1, :]) <= tol))
    return columns or rows


def symmetric_weights(moved: list[Any]) -> list[str]:
    """The names of the program's weight matrices when all of them (two or more) are symmetric; else []."""
    matrices = [
        (_name(m), m.value) for m in moved
        if isinstance(m.value, np.ndarray) and m.value.ndim == 2 and m.value.dtype.kind == "f" and m.value.size > 1
    ]  # fmt: skip
    matrices = [(name, value) for name, value in matrices if not _BIAS.match(_last_name(name))]
    if len(matrices) < 2 or not all(_units_equal(v) for _, v in matrices):
        return []
    return [name for name, _ in matrices]
