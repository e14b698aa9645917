"""Your gradient clip rescales every gradient, also the small ones: it normalises instead of clipping.

What it finds:
    The training step calls a gradient-clipping function (`clip_by_global_norm`,
    `clip_grads`, ...) whose scale is its threshold divided by the gradients'
    norm (`scale = max_norm / total`), applied with no comparison anywhere in
    the function: no `min(1.0, ...)`, no `if total > max_norm:`. Every step then
    has the threshold's norm exactly: a gradient above it is shrunk, as a clip
    does, and one below it is blown up to it. The finding is at the line that
    computes the scale.

Why it matters:
    Early in training the gradients are large and this clip behaves like one, so
    the first steps look right. Near a minimum the gradients shrink, and this
    one keeps every step at full length: the weights jump around the minimum
    instead of settling in it, and the loss stalls well above where plain
    gradient descent would take it.

Example:
    scale = max_norm / (total + 1e-12)
    return {k: g * scale for k, g in grads.items()}

Fix:
    scale = min(1.0, max_norm / (total + 1e-12))
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-clip-always-rescales"
CODE = "BPD628"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.clipping import always_rescales, step_clip

    source = context.source
    if source is None or source.tree is None:
        return
    named: set[int] = set()
    for result in context.extras.get("replay") or []:
        step = getattr(result, "step", None)
        clip = step_clip(source.tree, step) if step is not None and not getattr(result, "standin", False) else None
        found = always_rescales(clip) if clip is not None else None
        if found is None or found.lineno in named:
            continue
        named.add(found.lineno)
        statement = ast.unparse(found).splitlines()[0]
        yield rule(NAME).finding(
            f"your gradient clip `{ast.unparse(clip.call)}` (line {clip.call.lineno}) rescales every gradient to its threshold: "
            f"`{statement}` (line {found.lineno}) is applied whatever the gradients' norm, so a gradient below the threshold "
            "is scaled up to it and every step has the same length; only a norm above the threshold should be scaled "
            "down: take the smaller of 1 and that ratio",
            file=source.path,
            line=found.lineno,
            fix=_fixed(found),
            highlight=tuple(sorted({found.lineno, clip.call.lineno})),
        )


def _fixed(statement: ast.stmt) -> str | None:
    """`scale = min(1.0, max_norm / total)` for `scale = max_norm / total`."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        return f"{ast.unparse(statement.targets[0])} = min(1.0, {ast.unparse(statement.value)})"
    return None
