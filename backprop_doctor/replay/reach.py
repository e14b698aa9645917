"""Targets the step's output cannot reach: a sigmoid's output, in (0, 1), compared with exam scores of
0 to 100; a tanh's, in (-1, 1), with targets of 5.

The replayed step's loss reads a squashed output (`static.output_range.squashed_output`) and an array
of targets. Clipping the targets into the output's range gives the nearest values any output can take;
their mean squared distance from the targets is the lowest mean squared error the network can reach,
whatever its weights (`floor`). When that is a large part of the targets' own spread (what predicting
their mean leaves), no training gets the loss down: the gradients may be right, and are often zero (a
sigmoid saturated at 1). Plain numbers out (`Unreachable`); `checks/step_targets_out_of_range.py`
judges and words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

SHARE = 0.1  # the unreachable part of the targets' spread that stops training


@dataclass(frozen=True)
class Unreachable:
    output: str  # `out`
    kind: str  # "sigmoid", "tanh"
    output_line: int
    targets: str  # `y`, as the loss reads it
    data: str  # the array the targets are drawn from (`y` itself, or `Y` of `yb = Y[idx]`)
    data_line: int | None  # where the program binds that array before its loop
    low: float  # the targets' smallest and largest values
    high: float
    outside: float  # the share of targets outside the output's range
    floor: float  # the lowest mean squared error an output in that range can reach
    spread: float  # the targets' variance: what predicting their mean leaves


def unreachable(result: Any) -> Unreachable | None:
    """The targets of the replayed step's loss that its squashed output cannot come near, if any."""
    from backprop_doctor.replay.gradients import _names_in
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.output_range import RANGES, data_line, squashed_output

    loss, runner = result.loss, result.runner
    if loss is None or runner is None:
        return None
    tree = source_tree(runner.path)[1]
    if tree is None:
        return None
    names = _names_in(loss.expression)
    output = squashed_output(tree, result.step.prefix, names)
    if output is None:
        return None
    namespace = result.after_one_pass()
    if namespace is None:
        return None
    produced = namespace.get(output.name)
    if not isinstance(produced, np.ndarray) or produced.size < 2:
        return None
    low, high = RANGES[output.kind]
    updated = {re.match(r"\w*", moved.site.update.target).group() for moved, _ in result.parameters}  # `w` of a penalty `l1 * np.abs(w).mean()`
    for name in sorted(names - {output.name} - updated):
        value = namespace.get(name)
        if not isinstance(value, np.ndarray) or value.size != produced.size or value.dtype.kind not in "iuf":
            continue
        targets = value.astype(float).ravel()
        if not np.all(np.isfinite(targets)):
            continue
        floor = float(np.mean((np.clip(targets, low, high) - targets) ** 2))
        spread = float(np.var(targets))
        if floor <= 0 or floor < SHARE * spread:
            continue
        step = result.step
        data, line = data_line(tree, step.prefix, name, step.loop_line, step.function_line)
        outside = float(np.mean((targets < low) | (targets > high)))
        return Unreachable(output.name, output.kind, output.line, name, data, line, float(targets.min()), float(targets.max()), outside, floor, spread)
    return None


__all__ = ["Unreachable", "unreachable"]
