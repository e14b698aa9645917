"""Saturated units: a tanh or sigmoid hidden layer whose units sit at the flat ends of their curve.

A tanh unit whose output is within `EDGE` of ±1 for nearly every sample of the batch (`SAMPLE_SHARE`;
a sigmoid's of 0 or 1) has a slope of about 0 there: the gradient that reaches the weights feeding it is about 0 too, and
they barely move. Inputs on a scale of thousands (millimetres, raw pixel values) put most units of the
first layer there from the first step, and the loss creeps down or not at all, with every gradient right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EDGE = 0.01  # within this of the curve's end: the slope is below 0.02 (tanh) or 0.01 (sigmoid)
MIN_BATCH = 8  # fewer samples prove nothing
SAMPLE_SHARE = 0.9  # a unit at an end for at least this share of the batch is saturated


def saturated_units(values: np.ndarray, kind: str, widths: set[int]) -> tuple[int, int] | None:
    """(saturated units, units) of a tanh or sigmoid output of shape (batch, units) or (units, batch);
    None when it has no batch axis of `MIN_BATCH` samples. `widths`: the sizes of the parameters' axes,
    which tell the units' axis from the batch's (samples in rows when both or neither are)."""
    if not isinstance(values, np.ndarray) or values.ndim != 2 or values.dtype.kind != "f" or min(values.shape) == 1:
        return None
    rows, columns = (size in widths for size in values.shape)
    axis = 1 if rows and not columns else 0  # the batch's axis
    if values.shape[axis] < MIN_BATCH or not np.all(np.isfinite(values)):
        return None
    ends = np.abs(values) > 1 - EDGE if kind == "tanh" else (values < EDGE) | (values > 1 - EDGE)
    return int(np.count_nonzero(np.mean(ends, axis=axis) >= SAMPLE_SHARE)), values.shape[1 - axis]
