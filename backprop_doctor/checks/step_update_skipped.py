"""Your training loop computes gradients pass after pass but hardly ever updates.

What it finds:
    The training-step replay watches your training loop run. When the
    statements that update the parameters sit under a condition (gradient
    accumulation's `if step % accum_steps == 0:`, a layer's `if
    layer.trainable:`) that lets twenty passes or more go by before the
    first update, or that never lets one through while the loop runs, the
    update and the condition are named.

Why it matters:
    Every pass between two updates computes a gradient and throws it away
    (or adds it to a sum that is applied once, much later): the network
    hardly moves, and the loss stays where it started for most of the run.
    A counter that is never reset, a modulus as large as the run, or a
    comparison the wrong way round all do this.

Example:
    accum_steps = 400                 # micro-batches per update
    if step % accum_steps == 0:
        W -= lr * acc_W

Fix:
    accum_steps = 4
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.steps import first_update_line, update_guard

NAME = "step-update-skipped"
CODE = "BPD623"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        if getattr(result, "skipped", None) is None:
            continue
        passes, ran = result.skipped
        step = result.step
        update, guard = first_update_line(step), update_guard(step)
        if guard is None:
            continue  # an update under no condition of the loop ran where the capture could not read it: nothing skipped
        when = f"first ran at pass {passes} of the loop" if ran else f"never ran in the {passes} passes of the loop that were watched"
        periodic = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) for n in ast.walk(guard.test))
        advice = (
            "let the condition through every few passes (gradient accumulation over 2 to 8 micro-batches), or update in every pass"
            if periodic
            else "make the condition true for the parameters you mean to train (a `trainable` flag left off, a comparison the wrong way "
            "round), or update in every pass"
        )
        yield rule(NAME).finding(
            f"the update of your training loop (line {update}) {when}: it sits under `if {ast.unparse(guard.test)}` (line {guard.lineno}), "
            f"so every pass{' before it' if ran else ''} computed its gradients for nothing and the parameters "
            f"{'hardly moved' if ran else 'never moved'}; {advice}",
            file=source.path,
            line=guard.lineno,
            highlight=tuple(sorted({update, guard.lineno})),
            pattern="update-skipped",
            measured=float(passes),
            evidence=(("passes", f"{passes} passes of the loop at line {step.loop_line} {'before its first update' if ran else 'without an update'}"),),
        )
