"""A scalar autograd training loop steps each parameter's `.grad`, not its value.

What it finds:
    A training loop over the file's own autograd engine (a micrograd-style
    `Value`) that calls `loss.backward()` and then writes the step into the
    gradient (`p.grad -= lr * p.grad`), with no statement that moves the
    parameter's number (`p.data`) by its gradient.

Why it matters:
    The weights never move, so the loss stays where it started, pass after
    pass; the gradients are right, so no gradient check can see it.

Example:
    for k in range(20):
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, [n(x) for x in xs]))
        n.zero_grad()
        loss.backward()
        for p in n.parameters():
            p.grad -= 0.05 * p.grad

Fix:
        for p in n.parameters():
            p.data -= 0.05 * p.grad
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.grad_reset import moved_gradients, updating_functions

NAME = "update-moves-gradient"
CODE = "BPD210"
SEVERITY = "error"
STAGE = "contract"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.scalar_autograd import POINT, number_attribute

    engines = [cls for cls, _ in context.extras.get("scalar_autograd") or []]
    source = context.source
    if not engines or source is None or source.tree is None:
        return
    try:
        number = number_attribute(engines[0](POINT["a"])) or "data"
    except Exception:  # noqa: BLE001 - the user's constructor
        number = "data"
    from backprop_doctor.checks.grad_not_zeroed import _trees_of

    updating = updating_functions([source.tree, *_trees_of(engines, context.namespace or {})])  # an optimizer's `step()` that moves `.data`
    for moved in moved_gradients(source.tree, updating):
        owner = moved.target.rpartition(".")[0]
        fixed = moved.statement.replace(moved.target, f"{owner}.{number}", 1)
        yield rule(NAME).finding(
            f"your training loop (line {moved.loop}) steps the gradient, not the parameter: line {moved.line} (`{moved.statement}`) "
            f"changes `{moved.target}`, which `.backward()` (line {moved.backward}) computed, and nothing moves `{owner}.{number}`, "
            f"so the weights never change and the loss stays where it starts; write `{fixed}`",
            file=source.path,
            line=moved.line,
            highlight=tuple(sorted({moved.loop, moved.backward, moved.line})),
            pattern="gradient-stepped",
        )
