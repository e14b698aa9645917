"""Every gradient of the program is right, yet its own loss does not move: the learning rate is too small.

What it finds:
    After the training-step replay has found every update of your program
    right, backprop-doctor runs your training loop again from the same state
    for a few dozen steps, with your own update rule, batches and learning
    rate. When that loss stays within 1 % of where it started, the loop is run
    once more with the learning rate ten, then a hundred times larger; this
    check fires when the loss then falls by at least 10 %.

Why it matters:
    A step far smaller than the curvature allows moves the weights so little
    that the loss looks stuck: thousands of iterations go by with nothing to
    show. The gradients are fine; only the step is not.

Example:
    learning_rate = 1e-6
    for epoch in range(1000):
        ...
        W1 -= learning_rate * dW1

Fix:
    learning_rate = 1e-4
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ast

from backprop_doctor.checks._training_words import gradients_right, rate_setting, rate_statement
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-rate-too-low"
CODE = "BPD609"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    for result in context.extras.get("replay") or []:
        if result.larger_rate is None or result.wrong:
            continue
        name, yours, tried, curve = result.larger_rate
        own = result.curve
        line, where = rate_setting(source, result, name, yours)
        fix = f"{name} = {tried:g}"
        exact = max(abs(v - own[0]) for v in own) < 0.01 * abs(own[0])
        stays = (
            f"stays at {own[0]:.4g} (it ends at {own[-1]:.4g}) over its first {len(own)} steps" if exact
            else f"stays near {sum(own) / len(own):.4g}, its batches' noise aside, over its first {len(own)} steps (from {own[0]:.4g} to {own[-1]:.4g})"
        )  # fmt: skip
        inverted = _inverted(source, result, name, yours)
        if inverted is not None:
            fix, value, curve, divisor, factor = inverted
            yield rule(NAME).finding(
                f"your program's own loss {stays}{gradients_right(result)}, "
                f"so its learning rate {where} is too small: it divides by `{divisor}` ({factor:g}); multiplied by it instead, `{fix}` "
                f"({value:g}), the same program, from the same state, goes from {curve[0]:.4g} to {curve[-1]:.4g}",
                file=source.path,
                line=line,
                fix=fix,
                param=name,
                measured=yours,
                pattern="rate-divided-by-ratio",
                evidence=(
                    ("your loop", f"{len(own)} steps at {name} = {yours:g}: {own[0]:.4g} → {own[-1]:.4g}"),
                    ("multiplied", f"{len(curve)} steps at {name} = {value:g}: {curve[0]:.4g} → {curve[-1]:.4g}"),
                ),
            )
            continue
        yield rule(NAME).finding(
            f"your program's own loss {stays}{gradients_right(result)}, so its learning rate {where} is too small: with `{fix}` "
            f"the same program, from the same state, goes from {curve[0]:.4g} to {curve[-1]:.4g}",
            file=source.path,
            line=line,
            fix=fix,
            param=name,
            measured=yours,
            evidence=(
                ("your loop", f"{len(own)} steps at {name} = {yours:g}: {own[0]:.4g} → {own[-1]:.4g}"),
                ("larger rate", f"{len(curve)} steps at {name} = {tried:g}: {curve[0]:.4g} → {curve[-1]:.4g}"),
            ),
        )


def _inverted(source: Any, result: Any, name: str, yours: float) -> tuple[str, float, list[float], str, float] | None:
    """(the fix, its rate, the curve at it, the divisor, its value) when the rate is computed as `a / r` of a
    divisor `r` that reads settings and is above 1 (`BASE_LR / (BATCH / BASE_BATCH)`), and the program's
    loss falls over the replayed steps at `a * r` instead."""
    from backprop_doctor.replay.curve import falls, own_curve
    from backprop_doctor.replay.gradients import _with_rate

    statement = rate_statement(source.tree, result.step, name)
    runner = result.runner
    if statement is None or runner is None or not isinstance(statement.value, ast.BinOp) or not isinstance(statement.value.op, ast.Div):
        return None
    divisor = statement.value.right
    if not any(isinstance(n, ast.Name) for n in ast.walk(divisor)):
        return None  # `0.1 / 1000`: a number written to be small, no ratio turned around
    values = {**(getattr(runner, "namespace", None) or {}), **dict(getattr(runner.state, "values", {}) or {})}
    try:
        factor = float(eval(compile(ast.Expression(divisor), "<rate>", "eval"), {"__builtins__": {}}, values))  # noqa: S307 - the program's own expression
    except Exception:  # noqa: BLE001 - names the replay does not hold
        return None
    if not 1.5 <= factor <= 1e4:
        return None
    value = yours * factor * factor
    names = _with_rate(runner, name, value)
    if not names:
        return None
    try:
        curve = own_curve(runner, names=names)
    except Exception:  # noqa: BLE001 - the user's statements raised at that rate
        return None
    if not falls(curve):
        return None
    written = ast.unparse(divisor)
    if isinstance(divisor, ast.BinOp):
        written = f"({written})"
    fix = f"{name} = {ast.unparse(ast.BinOp(statement.value.left, ast.Mult(), divisor))}"
    return fix, value, curve, written, factor
