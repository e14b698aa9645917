"""A loop over the samples whose error reads a prediction made before the loop.

What it finds:
    A training loop that updates the weights one sample at a time (`w = w - lr * grad_w`
    inside `for i in ...`) while the error it differentiates reads a prediction computed
    before the loop from those same weights (`pred = X @ w + b` above the loop, then
    `err = pred[i] - y[i]` inside it), and never recomputed in it. Found in the source;
    reported when the replayed loop's loss does not fall with the program's rate.

Why it matters:
    After the first update every sample's error is the error of the weights as they were
    when the loop began. The loop then adds up one gradient per sample, all taken at that
    one point: a full-batch step as many times too large as there are samples, which
    overshoots and makes the loss rise. It reads as "stochastic gradient descent blows up
    where batch gradient descent works".

Example:
    pred = X @ w + b
    for i in np.random.permutation(n):
        err = pred[i] - y[i]
        w = w - lr * 2 * err * X[i]

Fix:
    for i in np.random.permutation(n):
        err = X[i] @ w + b - y[i]
        w = w - lr * 2 * err * X[i]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-stale-output"
CODE = "BPD625"
SEVERITY = "error"
STAGE = "training"


def stale_in(result: Any, source: Any) -> tuple[str, int, str, int, list[str]] | None:
    """The stale read of a replayed loop whose loss does not fall at the program's rate, or None."""
    from backprop_doctor.replay.curve import climbs_far, falls
    from backprop_doctor.static.stale import stale_output

    if source is None or source.tree is None or result.step is None or result.step.loop is None:
        return None
    curve = getattr(result, "curve", None) or []
    if result.smaller_rate is None and not (curve and climbs_far(curve, getattr(result, "terms", None))) and (not curve or falls(curve)):
        return None
    return stale_output(source.tree, result.step.loop)


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    for result in context.extras.get("replay") or []:
        found = stale_in(result, source)
        if found is None:
            continue
        statement, line, output, made_at, reads = found
        weights = " and ".join(f"`{r}`" for r in reads) or "the weights"
        loop_line = result.step.loop.lineno
        yield rule(NAME).finding(
            f"`{statement}` (line {line}) reads `{output}`, computed at line {made_at} from {weights} before the loop at line "
            f"{loop_line} that updates them, so after its first update every error is that of the weights as the loop began: "
            f"the loop adds up its gradients all taken at one point, a full-batch step as many times too large as it has "
            f"samples, and the loss rises; compute the prediction inside the loop, from the weights as they are",
            file=source.path,
            line=line,
            highlight=tuple(sorted({line, made_at})),
            pattern="stale-output",
        )
