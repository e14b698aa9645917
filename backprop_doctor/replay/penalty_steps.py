"""A penalty's own update statement, folded into the parameter's gradient step.

Students often write a regulariser as a statement of its own beside the gradient step:

    W -= lr * lam * np.sign(W)    # L1: the penalty's subgradient
    W -= lr * dW

or `W -= lr * lam * W` (weight decay). Each statement is an update the capture reads, so the
first alone would be measured against the loss as if `lam * np.sign(W)` were meant for its
gradient. What the parameter follows in the step is the sum of the two; `folded` hands the
measurement that sum, on the gradient step's statement, so the penalty is judged as one written
inside the step (`W -= lr * (dW + lam * np.sign(W))`): right when the loss holds it, a penalty the
loss leaves out when it does not (`gradients._decayed`).

A statement is a penalty's by what it moved the parameter by, not by its names: a positive
multiple of the parameter itself, or of its sign, to rounding. No gradient of a loss is that.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from backprop_doctor.replay.capture import Moved

_ROUNDING = 1e-9  # relative: the penalty's term is the parameter (or its sign) times one number
_SMALLEST = 3  # entries: fewer leave a gradient that happens to be proportional too likely


def penalty_factor(moved: Moved) -> float | None:
    """λ when the statement moved its parameter by `λ·p` or `λ·sign(p)` (λ > 0), else None."""
    gradient, value = moved.gradient, moved.value
    if not (isinstance(gradient, np.ndarray) and isinstance(value, np.ndarray)) or gradient.shape != value.shape:
        return None
    if value.size < _SMALLEST or value.dtype.kind != "f" or gradient.dtype.kind != "f":
        return None
    g = gradient.astype(np.float64, copy=False)
    for term in (value.astype(np.float64, copy=False), np.sign(value).astype(np.float64)):
        norm = float(np.sum(term * term))
        if norm == 0.0 or np.count_nonzero(term) < _SMALLEST:
            continue
        factor = float(np.sum(g * term)) / norm
        if factor > 0 and np.allclose(g, factor * term, rtol=_ROUNDING, atol=_ROUNDING * factor * float(np.max(np.abs(term)))):
            return factor
    return None


def folded(moved: list[Moved]) -> list[Moved]:
    """`moved` with each penalty statement added into the one other update of the same parameter:
    its gradient scaled by the two statements' rates (`lr * lam * sign(W)` beside `lr * dW`: λ·sign(W)
    added to dW). A parameter with no other update, or several, or a rate not read, is left as it is."""
    by_path: dict[Any, list[int]] = {}
    for i, m in enumerate(moved):
        if m.path is not None:
            by_path.setdefault(m.path, []).append(i)
    dropped: set[int] = set()
    replaced: dict[int, Moved] = {}
    for indices in by_path.values():
        if len(indices) < 2:
            continue
        penalties = [i for i in indices if penalty_factor(moved[i]) is not None]
        steps = [i for i in indices if i not in penalties]
        if not penalties or len(steps) != 1:
            continue
        step = moved[steps[0]]
        gradient = np.asarray(step.gradient, dtype=np.float64)
        for i in penalties:
            ratio = _rate_ratio(moved[i], step)
            if ratio is None:
                break
            gradient = gradient + ratio * np.asarray(moved[i].gradient, dtype=np.float64)
        else:
            replaced[steps[0]] = dataclasses.replace(step, gradient=gradient, penalised=True)
            dropped.update(penalties)
    return [replaced.get(i, m) for i, m in enumerate(moved) if i not in dropped]


def _rate_ratio(penalty: Moved, step: Moved) -> float | None:
    """How many of the step's rates the penalty statement's rate is (1 for the same name)."""
    if penalty.site.rate is not None and penalty.site.rate == step.site.rate:
        return 1.0
    if penalty.rate is not None and step.rate is not None and step.rate != 0:
        return penalty.rate / step.rate
    if penalty.site.rate is None and step.site.rate is None:
        return 1.0
    return None
