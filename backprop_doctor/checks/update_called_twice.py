"""The optimizer's step is called twice in one pass of the training loop, with the same gradients.

What it finds:
    A training loop whose pass calls an update of the file (an optimizer's
    `step()`, a function `sgd(params, grads)`) that moves the parameters in place
    (`p.value -= self.lr * v`), and then calls it again, written the same way, with
    nothing between the two calls that computes new gradients (nothing but
    `print`). Read from the source (`static.doubled_step`).

Why it matters:
    Each pass moves the parameters twice along the same gradient: the learning
    rate is doubled in effect, and an optimizer with a state (momentum, Adam)
    advances that state twice on one gradient. Training may still converge, more
    erratically, or diverge at a rate that should be safe; the gradients are
    right, so no gradient check can see it.

Example:
    for step in range(steps):
        opt.zero_grad()
        loss = loss_and_backward(xb, yb)
        opt.step()
        opt.step()

Fix:
    for step in range(steps):
        opt.zero_grad()
        loss = loss_and_backward(xb, yb)
        opt.step()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "update-called-twice"
CODE = "BPD646"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.doubled_step import doubled_steps

    source = getattr(context, "source", None)
    if source is None or getattr(source, "tree", None) is None:
        return
    for found in doubled_steps(source.tree, getattr(source, "text", None)):
        message = (
            f"line {found.line} calls `{found.call}` a second time in the same pass of the training loop (line {found.loop_line}), "
            f"right after line {found.first_line}, with nothing between them that computes new gradients: the same update "
            f"(`{found.update}`, line {found.update_line}) is applied twice per pass, so every step moves the parameters twice along "
            f"one gradient (and advances any optimizer state twice); call it once"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            highlight=tuple(sorted({found.first_line, found.line})),
            pattern="update-called-twice",
            evidence=(("update", f"`{found.call}` at lines {found.first_line} and {found.line} of one pass"),),
        )
