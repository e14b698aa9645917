"""Your training step clips the weights where it meant to clip their gradients.

What it finds:
    One pass of your training loop computes the parameters' gradients, then
    clips the parameters themselves in place (`np.clip(t, -c, c, out=t)` over
    `(W1, b1, W2, b2)`, `W = np.clip(W, -c, c)`), and then steps them with
    the gradients, which nothing clips.

Why it matters:
    Gradient clipping bounds the step; clipping the weights bounds the
    network. Every weight is boxed into the clip's range whatever the loss
    needs (a unit that should have a weight of 3 never gets it), each update
    moves weights other than the ones its gradient was computed at, and the
    raw gradients, which the clip was meant to tame, go through untouched.
    The loss stalls well above where it would go.

Example:
    dW1 = X.T @ dz1
    for t in (W1, b1, W2, b2):
        np.clip(t, -CLIP, CLIP, out=t)
    W1 -= LR * dW1

Fix:
    for t in (dW1, db1, dW2, db2):
        np.clip(t, -CLIP, CLIP, out=t)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import joined
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-clips-weights"
CODE = "BPD626"
SEVERITY = "error"
STAGE = "training"


def _names(names: tuple[str, ...]) -> str:
    return joined([f"`{n}`" for n in names])


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.clipped import clipped_weights

    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        step = getattr(result, "step", None)
        if step is None or not step.prefix:
            continue
        updated = [(site.update.target, site.gradient.strip()) for site in step.updates if site.update.file is None]
        found = clipped_weights(step.prefix, updated)
        if found is None:
            continue
        grads = _names(found.gradients)
        yield rule(NAME).finding(
            f"line {found.line} clips the weights {_names(found.weights)} into [{found.bounds}] after their gradients {grads} "
            f"were computed, and nothing clips the gradients: every weight stays boxed in that range whatever the loss needs, "
            f"each update moves weights its gradient was not computed at, and the raw gradients go through unclipped; "
            f"clip the gradients instead ({grads})",
            file=source.path,
            line=found.line,
            highlight=tuple(range(found.line, found.end_line + 1)),
            pattern="clipped-weights",
        )
        return
