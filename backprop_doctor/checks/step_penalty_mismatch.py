"""An update and the loss the program computes disagree on an L2 penalty (weight decay).

What it finds:
    The training-step replay measures each update against the loss the
    program computes. When an update's gradient is that loss's gradient plus
    λ·p (p the parameter) it follows a penalty λ/2·Σp² the loss leaves out
    (weight decay, or a loss printed without its penalty); when it is the
    loss's gradient minus λ·p, the loss holds a penalty the gradient leaves
    out, so the penalty never acts on training. The parameter, λ and the
    lines are named.

Why it matters:
    With the penalty only in the gradient, the loss you watch is not the one
    training lowers: it can stall or rise a little while training works. With
    the penalty only in the loss, regularisation you asked for does nothing.

Example:
    cost = cross_entropy(T, Y) + 0.5 * lam * np.sum(w ** 2)
    w -= lr * Xb.T.dot(Y - T)            # no lam * w

Fix:
    w -= lr * (Xb.T.dot(Y - T) + lam * w)
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
        if loss is None:
            continue
        loss_words = f"`{loss.name}` (line {loss.line})" if not loss.implied else f"the {loss.implied} {loss.name}"
        for moved, measured in result.parameters:
            if measured.decay is None:
                continue
            name, decay = measured.name, measured.decay
            lines = sorted({moved.site.line, *([measured.line] if measured.line and measured.file is None else [])})
            if decay > 0:
                message = (
                    f"the update of `{name}` (line {moved.site.line}) follows the gradient of {loss_words} plus "
                    f"{decay:.3g} × `{name}`, an L2 penalty (weight decay) that {loss_words} leaves out: the loss you "
                    f"watch is not the one training lowers; add {decay / 2:.3g} · Σ `{name}`² to it to watch the whole objective"
                )
            else:
                message = (
                    f"{loss_words} holds an L2 penalty on `{name}` that the update (line {moved.site.line}) leaves out: its "
                    f"gradient is the loss's minus {-decay:.3g} × `{name}`, so the penalty never acts; add {-decay:.3g} × `{name}` to the gradient"
                )
            yield rule(NAME).finding(
                message,
                param=name,
                file=moved.site.file or context.source.path,
                line=moved.site.line,
                highlight=tuple(lines) if moved.site.file is None else (moved.site.line,),
                pattern="penalty-only-in-gradient" if decay > 0 else "penalty-only-in-loss",
                measured=decay,
            )
