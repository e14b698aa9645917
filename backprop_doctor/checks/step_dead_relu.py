"""Most units of a ReLU in your training loop never fire.

What it finds:
    After the training-step replay has found every update of your program
    right, backprop-doctor runs your training loop again from the same state
    for a few dozen steps, with your own update rule, batches and learning
    rate, and keeps the values your loop binds to a ReLU's output that feeds
    the next layer's product (`a1 = np.maximum(0, z1)` then `a1 @ W2`; `h =
    relu(z)`, `h = z * (z > 0)`; a hinge loss's margins are not units). A unit is dead when
    it outputs 0 for every sample of the batch; this check fires when more than
    half of the units are dead after those steps. It is a warning, and an error
    when every unit is dead.

Why it matters:
    A ReLU unit that never fires passes no gradient back: the weights feeding
    it never change, and the layer after it sees a constant. With every unit
    dead, only the output bias learns and the loss stops at the mean of the
    targets. A large negative bias, weights far too large for the inputs, or a
    learning rate that knocks the units into the negative range all do this.

Example:
    b1 = np.full((1, 32), -20.0)
    ...
    a1 = np.maximum(0, X @ W1 + b1)

Fix:
    W1 = np.random.randn(n_in, n_hidden) * np.sqrt(2.0 / n_in)   # He init
    b1 = np.zeros((1, n_hidden))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import below_zero_bias, rate_setting, update_rate
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-dead-relu"
CODE = "BPD612"
SEVERITY = "warning"
STAGE = "training"

DEAD_SHARE = 0.5  # more than this share of a ReLU's units dead is reported


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.uniform import collapsed_inputs

    source = context.source
    if source is None:
        return
    for result in context.extras.get("replay") or []:
        if result.wrong or not result.curve:
            continue
        if any(dead.dead_last > DEAD_SHARE * dead.units for dead in result.dead) and collapsed_inputs(result):
            continue  # inputs nearly the same for every sample turn each unit on or off for all of them (`step-inputs-collapsed`)
        for dead in result.dead:
            if dead.dead_last <= DEAD_SHARE * dead.units:
                continue
            steps = len(result.curve)
            share = f"{dead.dead_last} of {dead.units} units of `{dead.name}` (line {dead.line}) output 0 for every sample"
            raw = _raw_input(result)
            if dead.dead_first > DEAD_SHARE * dead.units and raw is not None:
                name, largest, at = raw
                message = (
                    f"{share} from your program's first step on: no gradient flows back through them, so the weights "
                    f"that feed them never learn; your input `{name}` reaches {largest:.3g}"
                    + (f" (line {at})" if at else "") + ", so every unit's input is swamped by its largest feature and the first "
                    "updates are huge: standardise each feature (subtract its mean, divide by its standard deviation) before training"
                )
                line, fix = at or dead.line, f"{name} = ({name} - {name}.mean(axis=0)) / {name}.std(axis=0)"
            elif dead.dead_first > DEAD_SHARE * dead.units and (bias := _negative_bias(result, dead)) is not None:
                name, value, at = bias
                message = (
                    f"{share} from your program's first step on: `{name}` starts at {value:.3g}" + (f" (line {at})" if at else "")
                    + ", below every unit's input, so no unit fires, no gradient flows back through them and the weights that feed "
                    "them never learn; start the biases at 0"
                )
                line, fix = at or dead.line, f"{name} = np.zeros_like({name})"
            elif dead.dead_first > DEAD_SHARE * dead.units:
                message = (
                    f"{share} from your program's first step on: no gradient flows back through them, so the weights "
                    "that feed them never learn; start the biases at 0 and scale the weights like He init, sqrt(2 / fan_in)"
                )
                line, fix = dead.line, "W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in); b = np.zeros(n_out)"
            elif raw is not None:  # alive at first, killed by the first huge updates of raw-scale inputs
                name, largest, at = raw
                message = (
                    f"{share} after {steps} steps of your training loop, {dead.dead_first} at its first: your input `{name}` "
                    f"reaches {largest:.3g}" + (f" (line {at})" if at else "") + ", so the first updates are huge and push "
                    "every unit's input below zero for good; " + ("scale the pixels to [0, 1] before training" if raw_pixels(result, name) else
                    "standardise each feature (subtract its mean, divide by its standard deviation) before training")
                )
                line = at or dead.line
                fix = f"{name} = {name} / 255.0" if raw_pixels(result, name) else f"{name} = ({name} - {name}.mean(axis=0)) / {name}.std(axis=0)"
            else:
                rate = update_rate(result)
                if rate is not None:
                    name, yours = rate
                    line, where = rate_setting(source, result, name, yours)
                    fix = f"{name} = {yours / 10:g}"
                    message = f"{share} after {steps} steps of your training loop, {dead.dead_first} at its first: they stop firing during training at {where}; lower the learning rate"
                else:
                    line, fix = dead.line, None
                    message = f"{share} after {steps} steps of your training loop, {dead.dead_first} at its first: they stop firing during training; lower the learning rate"
            yield rule(NAME).finding(
                message,
                severity="error" if dead.dead_last == dead.units else None,
                file=source.path,
                line=line,
                highlight=tuple(sorted({line, dead.line})),
                param=dead.name,
                measured=dead.dead_last / dead.units,
                threshold=DEAD_SHARE,
                fix=fix,
                evidence=(
                    ("activity", f"units of `{dead.name}` that fire on no sample: {dead.dead_first} of {dead.units} at the first step, {dead.dead_last} after {steps} steps"),
                    ("your loop", f"{steps} steps: loss {result.curve[0]:.4g} → {result.curve[-1]:.4g}"),
                ),
            )



RAW = 100.0  # an input feature beyond this in size was never standardised (a price in dollars, an area in square feet)


def _raw_input(result: Any) -> tuple[str, float, int | None] | None:
    """(name, largest magnitude, the line that binds it) of the data the step's first layer multiplies a
    parameter with (`X @ W1`), when it holds values beyond `RAW`: features on their raw scale."""
    import ast

    import numpy as np

    values = getattr(getattr(result.runner, "state", None), "values", {}) or {}
    moved = {str(m.path[0][1]) for m, _ in result.parameters if m.path}
    for stmt in result.step.prefix:
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and isinstance(node.left, ast.Name)):
                continue
            if not (isinstance(node.right, ast.Name) and node.right.id in moved) or node.left.id in moved:
                continue
            data = values.get(node.left.id)
            if isinstance(data, np.ndarray) and data.dtype.kind == "f" and data.size and np.all(np.isfinite(data)):
                largest = float(np.max(np.abs(data)))
                if largest > RAW:
                    return node.left.id, largest, result.step.assigned.get(node.left.id) or _bound_line(result, node.left.id)
            return None
    return None


def _negative_bias(result: Any, dead: Any) -> tuple[str, float, int | None] | None:
    """(name, its largest entry, the line that binds it) of a bias the step adds into the dead ReLU's
    input that starts below zero everywhere (`b1 = np.full(H, -10.0)`), or None."""
    import ast

    import numpy as np

    by_line = {stmt.lineno: stmt for stmt in result.step.prefix}
    relu = by_line.get(dead.line)
    if relu is None:
        return None
    read = {n.id for n in ast.walk(relu) if isinstance(n, ast.Name)}
    read |= {n.id for stmt in result.step.prefix if stmt.lineno < dead.line and {t.id for t in ast.walk(stmt) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)} & read
             for n in ast.walk(stmt) if isinstance(n, ast.Name)}  # fmt: skip
    for moved, _ in result.parameters:
        if not moved.path or moved.path[0][1] not in read:
            continue
        value = np.asarray(moved.value, dtype=np.float64) if isinstance(moved.value, np.ndarray) else None
        if value is not None and below_zero_bias(value):
            name = str(moved.path[0][1])
            return name, float(value.max()), result.step.assigned.get(name) or _bound_line(result, name)
    return None


def raw_pixels(result: Any, name: str) -> bool:
    """Whether the step's input `name` holds whole numbers from 0 to 255: pixels never scaled."""
    import numpy as np

    data = (getattr(getattr(result.runner, "state", None), "values", {}) or {}).get(name)
    return isinstance(data, np.ndarray) and data.size > 0 and float(data.min()) >= 0 and float(data.max()) <= 255 and bool(np.all(data == np.round(data)))


def _bound_line(result: Any, name: str) -> int | None:
    """The line that last binds `name` before the training loop, in the file the loop is in."""
    import ast

    from backprop_doctor.static.files import source_tree

    tree = source_tree(result.runner.path)[1] if result.runner is not None else None
    lines = [
        n.lineno for n in ast.walk(tree) if tree is not None and isinstance(n, ast.Assign) and n.lineno < result.step.loop_line
        and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
    ]  # fmt: skip
    return max(lines, default=None)
