"""A gradient clip that does not clip: the program's step is its raw gradient, larger than the clip's threshold.

`clip_by_global_norm(grads, max_norm)` with `max(1.0, max_norm / norm)` where `min` was meant leaves every
gradient as it is whenever it is too large (and scales small ones up): the replay finds every update right,
the gradients' largest entry far above `max_norm`, and the loss blows up. Whatever the clip is (by value, by
each array's norm, by the global norm), a gradient with an entry above its threshold is changed by it; a
step that is exactly the gradient then says the clip did nothing. Plain numbers out (`Unclipped`);
`checks/step_clip_does_not_clip.py` judges and words.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MARGIN = 1.5  # the largest gradient entry must pass the threshold by this factor


@dataclass(frozen=True)
class Unclipped:
    call: str  # `clip_by_global_norm(grads, max_norm)`
    call_line: int
    threshold: str  # `max_norm`
    value: float  # 10.0
    largest: float  # the largest entry of the gradients the program stepped with
    norm: float  # their global norm
    line: int  # where the clip decides its scale (`coef = max(1.0, max_norm / norm)`), else the call's line
    statement: str | None  # that statement, as written
    grows: str | None  # `max(1.0, max_norm / (total_norm + 1e-06))`: a scale that never goes below 1


def unclipped(result: Any, tree: ast.Module | None) -> Unclipped | None:
    """The step's clipping call, when every update is right (the step is the gradient itself, not a
    clipped one) although the gradients hold an entry `MARGIN` times above the clip's threshold."""
    from backprop_doctor.static.clipping import never_below_one, step_clip, parameter_of, threshold_statement

    step = getattr(result, "step", None)
    runner = getattr(result, "runner", None)
    if step is None or runner is None or tree is None or not result.parameters or result.wrong or result.clipped:
        return None
    if any(m.inconclusive or m.scale is not None for _, m in result.parameters):
        return None
    clip = step_clip(tree, step)
    if clip is None:
        return None
    threshold = clip_threshold(clip, dict(getattr(runner.state, "values", {}) or {}))
    if threshold is None:
        return None
    argument, value = threshold
    gradients = [np.asarray(m.gradient, dtype=float) for m, _ in result.parameters if m.gradient is not None]
    if not gradients or not all(np.all(np.isfinite(g)) for g in gradients):
        return None
    largest = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in gradients)
    if largest <= MARGIN * value:
        return None
    norm = math.sqrt(sum(float(np.sum(g**2)) for g in gradients))
    parameter = parameter_of(clip, argument)
    statement = threshold_statement(clip, parameter) if parameter is not None else None
    return Unclipped(
        ast.unparse(clip.call), clip.call.lineno, ast.unparse(argument), value, largest, norm,
        statement.lineno if statement is not None else clip.call.lineno,
        ast.unparse(statement).splitlines()[0] if statement is not None else None,
        never_below_one(statement) if statement is not None else None,
    )  # fmt: skip


def clip_threshold(clip: Any, values: dict[str, Any]) -> tuple[ast.expr, float] | None:
    """(the argument, its value) of a clip call's one threshold: the one argument that is a positive
    number, a constant or a name the step's state `values` binds to one; None for no threshold, or
    for bounds (`-5, 5`) this does not read."""
    numbers = [(a, n) for a in [*clip.call.args, *(k.value for k in clip.call.keywords)] if (n := _number(a, values)) is not None]
    return numbers[0] if len(numbers) == 1 else None


def _number(argument: ast.expr, values: dict[str, Any]) -> float | None:
    """A positive number the argument is: a constant, or a name the step's state binds to one, or an attribute
    of an object it holds (`self.max_norm`)."""
    from backprop_doctor.replay.state import setting_value

    if isinstance(argument, ast.Constant):
        value = argument.value
    elif isinstance(argument, ast.Name):
        value = values.get(argument.id)
    elif isinstance(argument, ast.Attribute):
        value = setting_value(values, ast.unparse(argument))
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value > 0 else None
