"""The training step applies its output function (softmax, sigmoid) twice in the forward pass.

What it finds:
    The training-step replay finds the step's updates do not follow the
    gradient of the loss it computes, and a line the step runs applies
    softmax (or sigmoid) to a value that is already that function's output:
    `softmax(self.predict_proba(X))` with `predict_proba` returning
    `softmax(...)`, or `sigmoid(a)` with `a = sigmoid(z)`. The loss is then
    computed from the function applied twice, while the gradient written
    for it (`probs - onehot`, `p - y`) is the gradient through one. The line
    that applies it again and the line that already did are named.

Why it matters:
    Softmax of probabilities is nearly uniform (every input lies in [0, 1]):
    the loss stays near log(classes), the updates follow no loss the program
    computes, and training stalls or wanders.

Example:
    def predict_proba(self, X):
        return softmax(X @ self.W + self.b)
    ...
    probs = softmax(self.predict_proba(X))

Fix:
    probs = self.predict_proba(X)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-output-applied-twice"
CODE = "BPD113"
SEVERITY = "error"
STAGE = "gradient"


def applied_twice_in(result: Any, source: Any) -> Any:
    """The first line one pass of the replayed step runs that applies an output function to its own
    output, when the step's updates do not follow its loss; else None."""
    from backprop_doctor.static.twice import applied_twice

    if source is None or source.tree is None or not result.parameters or not result.wrong:
        return None
    if all(m.unused for _, m in result.wrong):
        return None  # updates that move nothing the loss reads: another cause
    lines = result.lines_run().get(os.path.abspath(source.path))
    found = applied_twice(source.tree, lines) if lines else []
    return found[0] if found else None


def run(context: Any) -> Iterator[Finding]:
    if context.source is None:
        return
    for result in context.extras.get("replay") or []:
        twice = applied_twice_in(result, context.source)
        if twice is None:
            continue
        names = [m.name for _, m in result.wrong]
        quoted = ", ".join(f"`{n}`" for n in names)
        loss = result.loss
        loss_words = f"`{loss.name}` (line {loss.line})" if loss is not None and not loss.implied else "your loss"
        message = (
            f"`{twice.statement}` (line {twice.line}) applies {twice.output} to `{twice.given}`, which is already "
            f"{twice.output}'s output (line {twice.made_line}): {loss_words} is computed from {twice.output} applied twice, "
            f"and the updates of {quoted} in your training step do not follow its gradient; apply {twice.output} once: `{twice.fixed}`"
        )
        yield rule(NAME).finding(
            message,
            param=names[0] if names else None,
            file=context.source.path,
            line=twice.line,
            highlight=tuple(sorted({twice.line, twice.made_line})),
            pattern="output-applied-twice",
            fix=twice.fixed,
            measured=max((m.error for _, m in result.wrong), default=None),
        )
