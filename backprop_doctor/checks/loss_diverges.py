"""The loss blows up while your network trains.

What it finds:
    In the training probe (a copy of your own network trained with plain
    in-place SGD at your learning rate and batch size, see `loss-rises`), the
    loss ends at least four times higher than it began, or climbs and then turns
    into NaN or infinity. The probe also retries with a ten and a hundred times
    smaller rate, and says whether the loss falls then.

Why it matters:
    A diverging loss is the classic sign of steps that are too big: each update
    overshoots the minimum by more than the last, the weights grow, the scores
    saturate the softmax and finally overflow. A gradient of the wrong sign or
    scale does the same at any rate.

Example:
    learning_rate = 50.0
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]

    # yours: 2.30 → 16.1, NaN at step 122; at lr 5: 2.30 → 0.001

Fix:
    learning_rate = 0.1    # or the largest rate at which the probe's loss falls
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "loss-diverges"
CODE = "BPD602"
SEVERITY = "error"
STAGE = "training"


def diverges(probe: training.Probe) -> bool:
    shape = probe.yours.shape
    return shape.trend == "diverges" or (shape.trend == "non-finite" and shape.before in ("diverges", "rises"))


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        if not diverges(probe):
            continue
        yours = probe.yours
        shape = yours.shape
        text = (
            f"The loss of `{probe.network}` diverges: from {words.loss_text(shape.first)} it climbs to "
            f"{words.loss_text(shape.peak)} within {len(yours.losses)} SGD steps at {words.lr_text(probe)}"
        )
        if yours.non_finite is not None:
            text += f", then {words.describe_non_finite(yours.non_finite)}"
        clause = words.cause_clause(probe) or "lower the learning rate and check the gradients"
        smaller = probe.falls_with_smaller_rate
        line = probe.settings.lr.line if smaller is not None and not probe.reference_falls else None
        yield rule(NAME).finding(
            f"{text}; {clause}.",
            layer=probe.network,
            measured=shape.peak,
            threshold=shape.first * training.DIVERGE_RATIO,
            fix=words.fix_for(probe),
            evidence=words.curve_evidence(probe),
            **words.location(context, probe, line),
        )
