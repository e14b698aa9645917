"""The program's learning-rate schedule takes the rate to nothing within its own loop.

What it finds:
    The training step's updates share one learning rate, and a statement in
    the training loop (or a loop around it) sets it every pass: a formula of
    the loop's counter (`lr = lr0 * 0.5 ** epoch`) or a factor applied each
    pass (`lr *= 0.9`). Evaluated over the loop's own `range(...)`, from the
    values the program holds when its first step begins, the rate falls to a
    thousandth of its first value within the first quarter of the passes. A
    factor runs on every pass of every loop around it: written in the batch
    loop of an epoch loop (`for`, over `range(0, N, batch)` or a list of
    batches, or a counted `while`), it runs batches × epochs times. A factor
    that reads the loop's counter (`lr = lr / (1 + decay * it)`) is applied
    pass by pass to the rate it already decayed: the factors compound, and the
    fix computes the rate from its first value (`lr = lr0 / (1 + decay * it)`).
    The schedule's line, the pass where the rate is gone, and how many passes
    at the first rate the whole of training amounts to are named. Judged only
    when the step's gradients are right.

Why it matters:
    Every gradient can be right and training still stops: once the rate is a
    thousandth of what it was, the updates move the weights by nothing, and
    the loss freezes wherever the first few passes left it, however many
    epochs the loop goes on for.

Example:
    for epoch in range(2000):
        lr = 0.5 * 0.5 ** epoch        # 5e-4 by epoch 10, 1e-61 by epoch 200

Fix:
    for epoch in range(2000):
        lr = 0.5 * 0.5 ** (epoch // 500)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.writes import first_assignment_line

NAME = "step-rate-vanishes"
CODE = "BPD617"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.schedule import vanishing_rate

    source = context.source
    if source is None:
        return
    for result in right_steps(context):
        found = vanishing_rate(result)
        if found is None:
            continue
        schedule = found.schedule
        counter = found.counter or schedule.counter
        at = f"`{counter}` = {found.counter_at}" if found.counter_at is not None and counter else f"pass {found.gone_at + 1}"
        last = f"{found.last:.2g}" if found.last else "0"
        how = (
            "decay it more slowly: a factor nearer 1, or one applied every few hundred passes "
            f"(`{schedule.counter} // 500` in place of `{schedule.counter}`)"
            if schedule.formula is not None
            else "decay it more slowly: a factor nearer 1, or applied every few hundred passes only"
        )
        if found.compounds:
            base = found.base or f"{schedule.rate}0"
            op = "/" if schedule.divides else "*"
            how = (
                f"the factor `{_wrapped(schedule.factor)}` reads `{schedule.counter}` and is applied to the rate the passes before already decayed, "
                f"so the factors compound (the rate is their product, not one of them): compute the rate from its first value "
                f"(`{schedule.rate} = {base} {op} {_wrapped(schedule.factor, op)}`"
                + (f", with `{base} = {schedule.rate}` before the loop)" if found.base is None else ")")
            )
        start = f"its peak, {found.first:.3g}, after the warm-up," if found.peaked else f"{found.first:.3g}"
        if found.loops:
            inner, outer = found.loops[0][0], found.loops[-1][0]
            each = ", in ".join(f"each of the {n} passes of the loop at line {at_line}" for at_line, n in found.loops)
            where = f"runs on {each}: {found.passes} times, so it "
            how = f"decay once per pass of the loop at line {outer}: move it out of the loop at line {inner}, or use a factor nearer 1"
            span = f"the last of those {found.passes} passes"
        else:
            where, span = "", f"the last of the loop's {found.passes} passes (line {schedule.loop_line})"
        message = (
            f"your learning-rate schedule `{schedule.statement}` (line {schedule.line}) {where}takes `{schedule.rate}` from "
            f"{start} to a thousandth of that by {at}, and to {last} by {span}: the whole of training amounts to {found.effective:.3g} passes at the "
            f"{'peak' if found.peaked else 'first'} rate, and after the first {found.gone_at} the updates no longer move the weights, "
            "so the loss stays where they left it; "
        )
        line, fix = schedule.line, None
        length = found.length
        assigned = first_assignment_line(source.tree, [length[0]]) if length is not None and source.tree is not None else None
        if length is not None and assigned is not None and assigned < schedule.loop_line:
            name, value, passes = length
            line, fix = assigned, f"{name} = {passes}"
            message += (
                f"the schedule lasts `{name}` = {value} passes (line {assigned}), but the loop makes {found.passes}: "
                f"count the schedule's length in the passes the loop makes, `{fix}`"
            )
        else:
            message += how
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=line,
            fix=fix,
            highlight=tuple(sorted({line, schedule.line, schedule.loop_line, *(loop for loop, _ in found.loops)})),
            pattern="rate-decays-to-zero",
            measured=found.effective,
            evidence=(
                ("rate", f"{found.first:.3g} at {'its peak' if found.peaked else 'the first pass'}, {found.first / 1000:.3g} or less by {at}, {last} at pass {found.passes}"),
                *((("your loop", f"{len(result.curve)} steps replayed: {result.curve[0]:.4g} → {result.curve[-1]:.4g}"),) if result.curve else ()),
            ),
        )


def _wrapped(factor: str, op: str = "/") -> str:
    """`factor` as the right operand of `op`: `(1.0 + decay * it)` in brackets, `0.5 ** (epoch / 3)` as
    it is (a power binds first), a product after `*` as it is."""
    import ast

    try:
        node = ast.parse(factor, mode="eval").body
    except SyntaxError:
        return f"({factor})"
    if isinstance(node, (ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.Subscript)):
        return factor
    if isinstance(node, ast.BinOp) and (isinstance(node.op, ast.Pow) or (op == "*" and isinstance(node.op, (ast.Mult, ast.Div)))):
        return factor
    return f"({factor})"
