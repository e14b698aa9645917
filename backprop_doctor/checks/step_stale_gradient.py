"""A training loop applies, at every pass, a gradient computed once before it.

What it finds:
    The training-step replay reads the gradient of each update at two passes of
    the loop. When every update's gradient holds the same values, bit for bit,
    at both, while the weights it moves have changed in between, the gradient
    is not computed again inside the loop: it was computed before it (the
    variable the update reads is bound above the loop), and a call inside the
    loop that returns a new one, if any, has it thrown away (`loss, _ = ...`).

Why it matters:
    Every step moves the weights along the gradient of where they began. The
    first steps lower the loss; then the weights walk past that point in a
    straight line and the loss rises, however small the learning rate. No
    gradient check finds it: the gradient is right, for the weights it was
    computed at.

Example:
    loss, grads = model.loss(X, y)
    for step in range(400):
        model.apply(grads, lr)
        loss, _ = model.loss(X, y)

Fix:
    for step in range(400):
        loss, grads = model.loss(X, y)
        model.apply(grads, lr)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-stale-gradient"
CODE = "BPD633"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        found = computed_once(result, source)
        if found is None:
            continue
        moved, loop_line, bound, thrown = found
        names = list(dict.fromkeys(m.gradient_name or m.site.gradient.strip() for m in moved))
        updates = sorted({m.site.line for m in moved})
        params = ", ".join(f"`{n}`" for n in dict.fromkeys(_described(m) for m in moved))
        shown = ", ".join(f"`{n}`" for n in names[:4])
        plural = len(names) > 1
        where = f"computed only once, at line {bound}, before the loop at line {loop_line}" if bound is not None else f"never computed inside the loop at line {loop_line}"
        text = (
            f"the update{'s' if len(moved) > 1 else ''} of {params} (line{'s' if len(updates) > 1 else ''} "
            f"{', '.join(map(str, updates))}) apply {shown}, which hold{'' if plural else 's'} the same values at every pass: "
            f"{'they are' if plural else 'it is'} {where}, and the loop never computes {'them' if plural else 'it'} again"
        )
        if thrown is not None:
            text += f" (line {thrown[0]} computes a new gradient and throws it away: `{thrown[1]}`)"
        text += (
            "; every step moves the weights along the gradient of where they began, so the loss falls at first and then "
            "rises as they walk past that point: compute the gradient inside the loop, before each update"
        )
        line = thrown[0] if thrown is not None else bound if bound is not None else updates[0]
        yield rule(NAME).finding(
            text,
            file=source.path,
            line=line,
            highlight=tuple(sorted({line, *updates, *((bound,) if bound is not None else ())})),
            param=moved[0].site.update.target if len(moved) == 1 else None,
            pattern="gradient-computed-once",
        )


def computed_once(result: Any, source: Any) -> tuple[list[Any], int, int | None, tuple[int, str] | None] | None:
    """(the updates, the loop's line, the line binding their gradient before it, the statement in it that
    throws a new one away) of a replayed step whose gradient is computed once before its loop: read at
    two passes with the same values (`result.stale`), or, for a step the replay read as made once
    (`loopless`), its updates inside a loop that never binds the gradient (`static.gradient_once`)."""
    from backprop_doctor.static.gradient_once import before_loop, bound_before, gradient_root, thrown_away

    if source is None or source.tree is None or result.step is None:
        return None
    if result.stale and result.step.loop is not None:
        names = [m.gradient_name or m.site.gradient.strip() for m in result.stale]
        roots = list(dict.fromkeys(r for n in names if (r := gradient_root(n))))
        bound = bound_before(source.tree, roots, result.step.loop.lineno)
        thrown = thrown_away(result.step.loop, bound) if bound is not None else None
        return result.stale, result.step.loop.lineno, bound.lineno if bound is not None else None, thrown
    if not result.step.loopless or result.wrong or not result.parameters:
        return None
    moved = [m for m, _ in result.parameters if m.site.file is None]
    if len(moved) != len(result.parameters):
        return None
    once = before_loop(source.tree, sorted({m.site.line for m in moved}), [m.gradient_name or m.site.gradient for m in moved])
    if once is None:
        return None
    return moved, once.loop_line, once.bound_line, once.thrown


def _described(moved: Any) -> str:
    from backprop_doctor.replay.state import describe

    return describe(moved.path) if moved.path is not None else moved.site.update.target
