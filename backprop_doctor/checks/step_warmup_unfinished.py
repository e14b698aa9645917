"""The program's learning-rate warm-up never ends: the rate never reaches the value it warms up to.

What it finds:
    The training step's updates share one learning rate, and a statement in
    the training loop (or a loop around it) sets it every pass as a warm-up,
    `lr = peak * min(1, ramp)` of a loop counter. Evaluated over the loop's
    own `range(...)`, from the values the program holds when its first step
    begins, the ramp climbs but is still below 1 at the loop's last pass: the
    rate climbs for the whole of training and never gets to `peak`. When the
    ramp reads an outer loop's counter (`epoch`) while the training loop
    counts its own passes (`step += 1`), that counter is named: a warm-up
    whose length is in steps (`warmup_steps = 3 * steps_per_epoch`) read
    against the epoch counter grows a step per epoch. Judged only when the
    step's gradients are right.

Why it matters:
    A warm-up is meant to last a small part of training; one that never ends
    trains the whole run at a fraction of the intended rate (a quarter of it,
    on average, when the ramp gets halfway), and the loss falls far more
    slowly than it would. No gradient check sees anything wrong.

Example:
    warmup_steps = 3 * steps_per_epoch
    for epoch in range(20):
        for start in range(0, N, batch):
            lr = base_lr * min(1.0, (epoch + 1) / warmup_steps)
            ...
            step += 1

Fix:
            lr = base_lr * min(1.0, (step + 1) / warmup_steps)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-warmup-unfinished"
CODE = "BPD641"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.schedule import unfinished_warmup

    source = context.source
    if source is None:
        return
    for result in right_steps(context):
        found = unfinished_warmup(result)
        if found is None:
            continue
        schedule = found.schedule
        message = (
            f"your learning-rate warm-up `{schedule.statement}` (line {schedule.line}) never ends: over the {found.passes} passes of "
            f"`{schedule.counter}` (the loop at line {schedule.loop_line}), `{found.ramp}` climbs only to {found.reached:.3g}, so "
            f"`{schedule.rate}` never reaches {found.target:.3g}: training runs at {found.mean:.0%} of it on average"
        )
        fix = None
        if found.length is not None:
            message += f"; the warm-up's length `{found.length[0]}` = {found.length[1]} is more than the {found.passes} passes `{schedule.counter}` makes"
        if found.counter is not None:
            name, at = found.counter
            fix = f"{schedule.rate} = {_renamed(schedule.formula, schedule.counter, name)}"
            message += (
                f"; the ramp reads `{schedule.counter}`, the counter of a loop around the training loop (line {result.step.loop_line}), "
                f"whose passes `{name}` counts (line {at}): read `{name}` in the warm-up, `{fix}`"
            )
        else:
            message += f"; make the warm-up end within the loop (a length shorter than its {found.passes} passes)"
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=schedule.line,
            fix=fix,
            highlight=tuple(sorted({schedule.line, schedule.loop_line})),
            pattern="warmup-never-ends",
            measured=found.reached,
            evidence=(
                ("rate", f"{found.reached * found.target:.3g} at the last pass, against {found.target:.3g} once warmed up"),
                *((("your loop", f"{len(result.curve)} steps replayed: {result.curve[0]:.4g} → {result.curve[-1]:.4g}"),) if result.curve else ()),
            ),
        )


def _renamed(formula: str, old: str, new: str) -> str:
    """`formula` with the name `old` read as `new` throughout."""

    class _Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            return ast.Name(new, node.ctx) if node.id == old else node

    return ast.unparse(_Rename().visit(ast.parse(formula, mode="eval")))
