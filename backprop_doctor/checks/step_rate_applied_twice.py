"""A momentum step multiplies by the learning rate a velocity that already holds it.

What it finds:
    The training step keeps a velocity per parameter whose own statement
    takes in the learning rate times the gradient
    (`velocity[k] = mu * velocity[k] - lr * grads[k]`), and the update
    multiplies that velocity by the same rate again
    (`params[k] += lr * velocity[k]`). The step is replayed from the
    program's own state; its direction is right, so no gradient check sees it.

Why it matters:
    Every step moves the parameters by lr² times the gradient (and lr times
    the momentum): with lr = 0.1 training runs a hundred times slower than
    the program asks for, and the loss barely moves. A larger rate does not
    help in the way it should: the velocity grows with lr, the step with lr².

Example:
    velocity[k] = mu * velocity[k] - lr * grads[k]
    params[k] += lr * velocity[k]

Fix:
    params[k] += velocity[k]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-rate-applied-twice"
CODE = "BPD114"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    if context.source is None:
        return
    for result in context.extras.get("replay") or []:
        if not result.parameters or result.wrong:
            continue  # a wrong gradient first: the rate's square is the lesser trouble
        twice = [(moved, measured) for moved, measured in result.parameters if moved.site.rate_again and moved.site.velocity is not None]
        if not twice:
            continue
        first, measured = twice[0]
        site = first.site
        rate = site.rate_again
        velocity_line, velocity = site.velocity
        names = ", ".join(f"`{m.name}`" for _, m in twice)
        statement = site.update.source.strip()
        message = (
            f"the update at line {site.line} (`{statement}`, for {names}) multiplies the velocity `{site.step}` by the learning rate `{rate}`, but the velocity "
            f"already holds it (line {velocity_line}, `{velocity}`): every step moves the parameters by `{rate}` squared times the "
            f"gradient, so training runs as if the rate were `{rate}`²; move them by the velocity alone, without `{rate}`"
        )
        yield rule(NAME).finding(
            message,
            param=measured.name,
            file=context.source.path,
            line=site.line,
            highlight=tuple(sorted({site.line, velocity_line})),
            pattern="rate-applied-twice",
            evidence=(("velocity", f"line {velocity_line}: `{velocity}`"), ("update", f"line {site.line}: `{rate}` × `{site.step}`")),
        )
