"""A scalar autograd training loop never sets the gradients back to zero.

What it finds:
    A training loop over a micrograd-style `Value` engine that calls
    `loss.backward()` and moves each parameter by its `grad`, with nothing in
    the loop that sets the gradients back to zero (`p.grad = 0.0`, a
    `zero_grad()` method, or an engine whose `backward()` zeroes the graph
    first). The engine's closures add into `grad` (`+=`, as they must), so
    each pass's `backward()` adds its gradient to all the earlier ones. The same
    for layers over arrays that hold each parameter as an object beside its
    gradient (`self.W = Param(...)`) and add into it in their backward
    (`self.W.grad += self.x.T @ dout`), with an optimizer whose `step()` moves
    `p.data` by `p.grad`: a loop calling `model.backward(dpred)` and `opt.step()`
    but never `opt.zero_grad()`. A reset called once, before the loop
    (`model.zero_grad()` above `for step in ...`), is named where it stands, with
    the move into the loop as the fix.

Why it matters:
    From the second pass on, every update follows the sum of all the gradients
    so far instead of the gradient of this pass's loss: a step that grows each
    pass and keeps pushing the way the first losses pointed. The loss may still
    fall for a while on a tiny problem, which makes the bug easy to miss; on
    anything larger it overshoots or stalls.

Example:
    for k in range(20):
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, [n(x) for x in xs]))
        loss.backward()
        for p in n.parameters():
            p.data += -0.05 * p.grad

Fix:
    for k in range(20):
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, [n(x) for x in xs]))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.05 * p.grad
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.grad_reset import never_reset, never_reset_objects

NAME = "grad-not-zeroed"
CODE = "BPD207"
SEVERITY = "error"
STAGE = "contract"


def unreset_loops(context: Any) -> list[Any]:
    """The training loops over the user's autograd engine that never set the gradients back to zero
    (`static.grad_reset.NeverReset`), for this check and for `step_gradient_mismatch`, which leaves
    the replay's wrong gradients of such a loop to this check: at the pass the replay measures they
    are the sum of two passes' gradients, which this check names where the reset belongs."""
    engines = [cls for cls, _ in context.extras.get("scalar_autograd") or []]
    source = context.source
    if source is None or source.tree is None:
        return []
    trees = [source.tree, *_trees_of(engines, context.namespace or {})]
    if engines:
        return never_reset(trees, source.tree)
    # parameter objects over arrays (`self.W.grad += ...`, `opt.step()`): a loop the replay measured is
    # reported only when it found the step's gradients wrong (the sum of passes' gradients)
    replayed = {result.step.loop_line: bool(result.wrong) for result in context.extras.get("replay") or []}
    return [loop for loop in never_reset_objects(trees, source.tree) if replayed.get(loop.loop, True)]


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    for loop in unreset_loops(context):
        reset = f"`{loop.owner}.{loop.zero_grad}()`" if loop.owner and loop.zero_grad else (
            f"`for p in {loop.owner}.parameters(): p.grad = 0.0`" if loop.owner
            else f"`for p in {loop.listed}: p.grad[...] = 0.0`" if loop.listed
            else "`p.grad = 0.0` for every parameter"
        )
        if loop.before is not None:  # `model.zero_grad()` once, before the loop: the reset is there, in the wrong place
            at, call = loop.before
            yield rule(NAME).finding(
                f"`{call}` (line {at}) sets the gradients to zero once, before your training loop (line {loop.loop}), and never "
                f"again: `.backward()` (line {loop.backward}) adds each pass's gradient to what the earlier passes left in `.grad`, "
                f"so from the second pass on the update at line {loop.update} follows the sum of every gradient so far, not the "
                f"gradient of this loss; move `{call}` into the loop, before line {loop.backward}",
                file=source.path,
                line=at,
                fix=call,
                highlight=tuple(sorted({at, loop.loop, loop.backward, loop.update})),
                pattern="grad-reset-before-loop",
            )
            continue
        yield rule(NAME).finding(
            f"your training loop (line {loop.loop}) never sets the gradients back to zero: `.backward()` (line {loop.backward}) "
            f"adds each pass's gradient to what the earlier passes left in `.grad`, so from the second pass on the update at "
            f"line {loop.update} follows the sum of every gradient so far, not the gradient of this loss; "
            f"write {reset} before line {loop.backward}",
            file=source.path,
            line=loop.backward,
            highlight=tuple(sorted({loop.loop, loop.backward, loop.update})),
            pattern="grad-never-reset",
        )


def _trees_of(engines: list[type], namespace: dict[str, Any]) -> list[Any]:
    """The syntax trees of the engines' files and of the user's files the namespace's classes and
    functions come from (a `Module.zero_grad` beside the engine)."""
    from backprop_doctor.discovery import is_user_object

    files: set[str] = set()
    for value in [*engines, *namespace.values()]:
        if (inspect.isclass(value) or inspect.isfunction(value)) and is_user_object(value):
            try:
                files.add(os.path.abspath(inspect.getsourcefile(value) or ""))
            except TypeError:
                continue
    return [tree for file in sorted(files) if file and (tree := source_tree(file)[1]) is not None]
