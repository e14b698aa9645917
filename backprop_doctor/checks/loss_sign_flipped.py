"""The loss a program prints rises while it learns: its sign is flipped.

What it finds:
    The training-step replay compares every update of your program with the
    loss it computes. When every update is written as a descent (`w -= lr * dw`)
    yet climbs that loss exactly, and the loss is below zero, the gradients are
    those of its negative: the value you named a loss or cost is a
    log-likelihood. This check fires when that value is named like a loss
    (not `log_likelihood`, `ll`, `reward`, `score`...).

Why it matters:
    Training is right, but the curve you watch is upside down: the printed
    cost goes up (towards 0) while the network learns, and looks like a bug in
    the gradients. Anything that uses it as a loss (early stopping, a learning
    rate schedule, a gradient check against it) is misled.

Example:
    cost = np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    dw = np.dot(X, (A - Y).T) / m

Fix:
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.origins import value_computed_at

NAME = "loss-sign-flipped"
CODE = "BPD503"
SEVERITY = "error"
STAGE = "loss"

# A value the program means to climb: judged as the ascent it is, never reported here.
CLIMBED = re.compile(r"lik|(^|_)ll($|_)|log_?prob|reward|score|objective|gain|utility|fitness|accuracy", re.IGNORECASE)


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    for result in context.extras.get("replay") or []:
        loss = result.loss
        if not result.maximised or loss is None or loss.implied or CLIMBED.search(loss.name):
            continue
        sites = [moved.site for moved, _ in result.parameters]
        if not sites or any(site.sign != -1 for site in sites):
            continue  # `w += lr * grad`: the program means to climb it
        first = min(sites, key=lambda site: site.line)
        computed = value_computed_at(source.tree, loss.line, loss.name) if source.tree is not None and loss.line else None
        where = f"line {loss.line}" if computed is None else f"computed at line {computed}, read at line {loss.line}"
        value = -result.loss_value if result.loss_value is not None else None
        starts = f", {value:.4g} at the start," if value is not None else ""
        yield rule(NAME).finding(
            f"your `{loss.name}` ({where}){starts} rises while your network learns: it is the negative of the loss "
            f"your gradients belong to, since every update (the first at line {first.line}: `{first.update.source}`) "
            f"descends along its gradient and climbs `{loss.name}`; put a minus sign in front of it",
            file=source.path,
            line=computed or loss.line,
            param=loss.name,
            measured=value,
        )
