"""A gradient clip so tight that it, not the gradient, sets every step: the loss cannot move.

`np.clip(g, -clip_value, clip_value)` with `clip_value = 1e-6` where the gradients' entries are near 1
turns every gradient into its sign pattern times 1e-6: each step moves each weight by `lr * 1e-6`, and the
program's loss stays where it started. The replay has found the loss stalled over its first passes; this
reads the clip's bound (`gradients.clip_bound`, the same for every update, from a name of the step's state),
finds nearly every entry the program stepped with at that bound, and runs the program again from the same
state with the bound lifted: without the clip its loss falls. The bound to suggest is the first ten, a
hundred, ... times larger at which the loss falls nine tenths as far as without the clip (one the
gradients hardly reach), else the first at which it falls at all. Plain numbers out (`TightClip`);
`checks/step_clip_too_tight.py` judges and words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

AT_BOUND = 0.9  # the share of the gradients' entries at the clip's bound: the clip, not the gradient, sets the step
LARGEST_FACTOR = 12  # bounds up to 1e12 times the program's are tried, in steps of ten


@dataclass(frozen=True)
class TightClip:
    setting: str  # `clip_value`
    value: float  # 1e-6
    line: int  # the clip (`np.clip(...)`, or the step's call of the function that clips)
    at_bound: int  # entries of the gradients the program stepped with at the bound
    entries: int  # all their entries
    tried: float | None  # the larger bound to suggest; None: the loss falls only without the clip
    curve: list[float]  # the program's loss at `tried` (or without the clip)


def tight_clip(runner: Any, moved: list[Any], deadline: Any = None) -> TightClip | None:
    """The clip that holds a stalled step back, when every update is clipped at one bound read from
    the state, nearly all the entries stepped with sit at it, and the program's loss falls once the
    bound is lifted."""
    from backprop_doctor.replay.curve import falls, own_curve
    from backprop_doctor.replay.gradients import clip_bound

    if not moved:
        return None
    bounds = {clip_bound(runner, m) for m in moved}
    if len(bounds) != 1:
        return None
    (bound,) = bounds
    if bound is None or bound.setting is None or bound.setting not in runner.state.values:
        return None
    gradients = [np.abs(np.asarray(m.gradient, dtype=float)).ravel() for m in moved if m.gradient is not None]
    entries = sum(g.size for g in gradients)
    if not entries or not all(np.all(np.isfinite(g)) for g in gradients):
        return None
    at_bound = sum(int(np.count_nonzero(g >= bound.value * (1 - 1e-9))) for g in gradients)
    if at_bound < AT_BOUND * entries:
        return None
    free = own_curve(runner, names={bound.setting: math.inf})
    if not falls(free):
        return None  # the step stalls without the clip too: something else holds it back
    first: tuple[float, list[float]] | None = None
    for power in range(1, LARGEST_FACTOR + 1):
        if deadline is not None and deadline.passed():
            break
        tried = float(f"{bound.value * 10.0 ** power:.6g}")
        curve = own_curve(runner, names={bound.setting: tried})
        if not falls(curve):
            continue
        first = first or (tried, curve)
        if _as_far(curve, free):
            return TightClip(bound.setting, bound.value, bound.line, at_bound, entries, tried, curve)
    if first is not None:
        return TightClip(bound.setting, bound.value, bound.line, at_bound, entries, first[0], first[1])
    return TightClip(bound.setting, bound.value, bound.line, at_bound, entries, None, free)


def _as_far(curve: list[float], free: list[float]) -> bool:
    """The loss falls nine tenths as far as without the clip: a bound the gradients hardly reach."""
    return bool(curve) and math.isfinite(curve[-1]) and curve[0] - curve[-1] >= 0.9 * (free[0] - free[-1])


__all__ = ["TightClip", "tight_clip"]
