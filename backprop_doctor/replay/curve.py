"""The program's own loss curve: its training loop run again for a few steps from the captured state.

The loop statement itself is run, on a fresh copy of the state (`Runner.fresh`),
with two things added: before each pass a note of the loss the previous pass
computed, and a stop after `STEPS` passes or `SECONDS` of time. So the curve is
made by the program's own forward, backward and update rule (an optimizer
class, a momentum, an update that rebinds), on its own batches, with its output
thrown away.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import time
from typing import Any

from backprop_doctor.observe.record import number
from backprop_doctor.replay.runner import Runner

STEPS = 40
SECONDS = 3.0
_NOTE = "__bpd_note__"


def own_curve(runner: Runner, steps: int = STEPS, seconds: float = SECONDS, names: dict[str, Any] | None = None) -> list[float]:
    """The loss after each of the first `steps` passes of the training loop; [] when it cannot run.

    `names` rebinds variables of the step's state first (`{"lr": 0.05}`: the same program at a
    smaller learning rate)."""
    step = runner.step
    loop = step.loop
    site = runner.loss_site
    if loop is None or site is None or not isinstance(loop, (ast.For, ast.While)):
        return []
    losses: list[float] = []
    deadline = time.perf_counter() + seconds
    passes = [0]

    def note(namespace: dict[str, Any]) -> bool:
        if passes[0] > 0:
            try:
                value = namespace.get(site.name) if site.in_prefix else eval(site.expression, namespace)  # noqa: S307
            except Exception:  # noqa: BLE001 - the loss is not there yet on this pass
                value = None
            found = number(value)
            losses.append(found if found is not None else math.nan)
        passes[0] += 1
        return passes[0] > steps or time.perf_counter() > deadline

    check = ast.parse(f"if {_NOTE}(globals()):\n    break").body[0]
    body = [check, *loop.body]
    if isinstance(loop, ast.For):
        again = ast.For(target=loop.target, iter=loop.iter, body=body, orelse=[], type_comment=None)
    else:
        again = ast.While(test=loop.test, body=body, orelse=[])
    module = ast.Module(body=[ast.copy_location(again, loop), ast.parse(f"{_NOTE}(globals())").body[0]], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        code = compile(module, runner.path, "exec", dont_inherit=True)
    except SyntaxError:
        return []
    namespace = runner.fresh()
    namespace.update(names or {})
    namespace[_NOTE] = note
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(code, namespace)  # noqa: S102 - the user's own loop, in the sandbox
    except Exception:  # noqa: BLE001 - the loop raised after some passes: the curve so far
        pass
    finally:
        namespace.pop(_NOTE, None)
    return [v for v in losses[:steps]]


def rises(curve: list[float]) -> bool:
    """The loss climbs or stops being a number over the replayed steps (mean of the last fifth
    above the first value by 10 %)."""
    if len(curve) < 5:
        return False
    if not all(math.isfinite(v) for v in curve):
        return True
    tail = curve[-max(2, len(curve) // 5):]
    return sum(tail) / len(tail) > 1.1 * curve[0]


def falls(curve: list[float]) -> bool:
    if len(curve) < 5 or not all(math.isfinite(v) for v in curve):
        return False
    tail = curve[-max(2, len(curve) // 5):]
    return sum(tail) / len(tail) < 0.9 * curve[0]
