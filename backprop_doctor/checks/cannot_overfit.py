"""Your network cannot fit five samples.

What it finds:
    The training probe (see `loss-rises`) also trains a copy of your network on
    just 5 samples, full-batch, for 500 steps at your learning rate, with the
    network's own weight decay (`weight_decay_lambda`, `reg`) turned off. Any
    working network memorises 5 samples: this check fires when the loss does not
    drop below a fifth of where it started. When an earlier finding blames a
    standard piece, the tiny batch is trained again with the reference swapped
    in, to show that it can then be fitted (unless the full run with the
    reference already learns: that run is shown instead).

Why it matters:
    Overfitting a tiny batch is the cheapest sanity check of a training set-up
    (forward, loss, backward, update): it needs no data set, no tuning and no
    patience. If it fails, nothing about the real data will help; the bug is in
    the code or the learning rate.

Example:
    # 5 samples, 500 steps: 3.91 → 12.9 (a softmax over the whole batch)

Fix:
    Make the piece the evidence names correct, or lower the learning rate, until
    the 5 samples are fitted; then train on the real data.
"""

from __future__ import annotations

import math

from collections.abc import Iterator
from typing import Any

from backprop_doctor import training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "cannot-overfit"
CODE = "BPD607"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        tiny = probe.overfit
        if tiny is None or not tiny.ran or tiny.truncated or (tiny.error and len(tiny.losses) < training.OVERFIT_STEPS // 2):
            continue  # out of time before its steps were done: an unfinished run proves nothing
        if training.fitted(tiny):
            continue
        if training.fitted(probe.overfit_agreeing):
            continue  # fitted once every position the loss reads apart holds one value: their disagreement is its floor
        if len(tiny.losses) < training.OVERFIT_STEPS and _still_falling(tiny.losses):
            continue  # fewer steps than the full run (a large network's share of the work), its loss still going down
        shape = tiny.shape
        text = (
            f"`{probe.network}` cannot fit {training.OVERFIT_SAMPLES} samples: after {len(tiny.losses)} full-batch SGD "
            f"steps at {words.lr_text(probe)} the loss goes {words.span(tiny)}, not below a fifth of where it began"
        )
        evidence: tuple[tuple[str, str], ...] = (("tiny batch", words.curve_text(tiny)),)
        ref = probe.overfit_reference
        full = probe.reference
        if ref is not None and ref.losses:
            evidence += ((f"with {probe.reference_label}", words.curve_text(ref)),)
            if training.fitted(ref):
                text += f"; with {probe.reference_label} swapped in it does ({words.span(ref)}): fix that first"
        elif full is not None and full.losses and training.falls_clearly(full):
            # the probe skips the tiny batch with the reference when the full run already learns
            evidence += ((f"with {probe.reference_label}", words.curve_text(full)),)
            text += f"; with {probe.reference_label} swapped in it does learn (the full run: {words.span(full)}): fix that first"
        elif probe.reference_note:
            evidence += (("reference", words.sentence(probe.reference_note)),)
        evidence += (("probe", words.probe_description(probe)),)
        yield rule(NAME).finding(
            text + ".",
            layer=probe.network,
            measured=shape.tail,
            threshold=training.FITTED_RATIO * abs(shape.first),
            fix=words.fix_for(probe),
            evidence=evidence,
            **words.location(context, probe, probe.line),
        )


def _still_falling(losses: list[float]) -> bool:
    """The loss's last tenth of the steps is clearly below the tenth before it: the run stopped while it learned."""
    k = max(2, len(losses) // 10)
    if len(losses) < 2 * k or not all(math.isfinite(v) for v in losses[-2 * k:]):
        return False
    last, before = sum(losses[-k:]) / k, sum(losses[-2 * k : -k]) / k
    return last < 0.98 * before
