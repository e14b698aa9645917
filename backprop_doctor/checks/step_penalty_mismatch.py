"""An update follows an L2 penalty (weight decay) that the loss the program computes leaves out.

What it finds:
    The training-step replay measures each update against the loss the
    program computes. When an update's gradient is that loss's gradient plus
    λ·p (p the parameter), it follows a penalty λ/2·Σp² the loss leaves out:
    weight decay, or a loss printed without its penalty. The parameter, λ and
    the update's line are named. (The other way round, a penalty in the loss
    that the gradient leaves out, is a wrong gradient: step-gradient-mismatch.)

Why it matters:
    The loss you watch is not the one training lowers: it can stall, or rise
    a little, while training works. Add the penalty to the loss you print to
    watch the whole objective, or leave it out knowingly.

Example:
    print(cross_entropy(T, Y))
    w += lr * (Xb.T.dot(T - Y) - 0.1 * w)

Fix:
    print(cross_entropy(T, Y) + 0.05 * np.sum(w ** 2))
    w += lr * (Xb.T.dot(T - Y) - 0.1 * w)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-penalty-mismatch"
CODE = "BPD109"
SEVERITY = "warning"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    if context.source is None:
        return
    for result in context.extras.get("replay") or []:
        loss = result.loss
        if loss is None or loss.implied:
            continue  # a step that computes no loss watches none: weight decay in its update is its own choice
        loss_words = f"`{loss.name}` (line {loss.line})"
        for moved, measured in result.parameters:
            if measured.decay is None:
                continue
            name, decay = measured.name, measured.decay
            message = (
                f"the update of `{name}` (line {moved.site.line}) follows the gradient of {loss_words} plus "
                f"{decay:.3g} × `{name}`, an L2 penalty (weight decay) that {loss_words} leaves out: the loss you "
                f"watch is not the one training lowers; add {decay / 2:.3g} · Σ `{name}`² to it to watch the whole objective"
            )
            yield rule(NAME).finding(
                message,
                param=name,
                file=moved.site.file or context.source.path,
                line=moved.site.line,
                highlight=(moved.site.line,),
                pattern="penalty-only-in-gradient",
                measured=decay,
            )
