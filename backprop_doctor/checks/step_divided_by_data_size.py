"""A mini-batch step divides its gradients by the size of the whole data set, not of the batch.

What it finds:
    The training-step replay measures each update against the loss of the
    step's batch. When every gradient is the same fraction of that loss's
    gradient, and the fraction is the batch's size over the data set's
    (B/N) because a line the step runs divides by a count that holds N
    (`N`, `len(X)`, `X.shape[0]`) while the loss is computed over B
    samples, the gradient is divided by the wrong count. The division's line,
    N, B and the data array are named.

Why it matters:
    Every update is N/B times smaller than the mean over the batch gives:
    training runs as if the learning rate were divided by N/B (16 for 32
    samples of 512), and the loss creeps, or seems not to fall at all.

Example:
    for batch in np.array_split(np.random.permutation(N), N // 32):
        xb, yb = X[batch], y[batch]
        d = 2 * (xb @ w - yb) / N

Fix:
    d = 2 * (xb @ w - yb) / len(xb)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._training_words import replayed_step
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-divided-by-data-size"
CODE = "BPD112"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    if context.source is None:
        return
    for result in context.extras.get("replay") or []:
        found = getattr(result, "data_sized", None)
        if found is None or not result.parameters:
            continue
        divisor = found.divisor
        names = [m.name for _, m in result.parameters]
        quoted = ", ".join(f"`{n}`" for n in names)
        times = found.size / found.batch
        data = f" (`{found.of}` holds {found.size} samples)" if found.of else ""
        count = f"`{divisor.text}`" + (f" = {found.size}" if divisor.text != str(found.size) else "")
        batch = f"`{found.batch_of}`" if found.batch_of else "the batch's own size"
        first = result.parameters[0][0]
        message = (
            f"every gradient of your training step ({quoted}, updated at line {first.site.line}) is divided by {count}, the size "
            f"of the whole data set{data}, at line {divisor.line} (`{divisor.statement}`), while its loss is computed over a "
            f"batch of {found.batch}: each update is {found.batch}/{found.size} of the batch's mean gradient, as if the learning "
            f"rate were {times:.3g} times smaller; divide by {batch} ({found.batch}) instead of `{divisor.text}`"
        )
        yield rule(NAME).finding(
            message,
            param=names[0],
            file=context.source.path,
            line=divisor.line,
            highlight=tuple(sorted({divisor.line, first.site.line})) if not first.site.file else (divisor.line,),
            pattern="divided-by-data-size",
            measured=found.batch / found.size,
            evidence=_evidence(result, found),
        )


def _evidence(result: Any, found: Any) -> tuple[tuple[str, str], ...]:
    rows = []
    if result.loss is not None and result.loss_value is not None:
        rows.append(("replayed", f"{replayed_step(result)}, replayed from the program's own state: loss {result.loss_value:.6g}"))
    for _, measured in result.parameters:
        if measured.factor is not None:
            rows.append((measured.name, f"{measured.factor:.4g} × the gradient of `{result.loss.name}`; divided by the batch's size, {measured.factor * found.size / found.batch:.4g} ×"))
    return tuple(rows)
