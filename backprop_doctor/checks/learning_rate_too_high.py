"""The learning rate is too high for your network: a smaller one makes the loss fall.

What it finds:
    When the training probe's loss rises, diverges or turns into NaN (see
    `loss-rises`), the probe runs the same steps again at a ten, then a hundred
    times smaller rate. This check fires when the loss falls at the smaller rate
    and no broken layer explains the climb (when a reference layer swapped in
    makes the loss fall at your rate, that layer is the cause, not the rate).
    The evidence gives the update/weight ratio ||lr·g|| / ||W|| per step, which
    is healthy between 1e-4 and 1e-1.

Why it matters:
    Gradient descent only goes downhill for steps small enough that the slope
    does not change much along them. Past that, every step overshoots: the loss
    jumps, the weights grow, the softmax saturates and the loss sticks at
    -log(1e-7) = 16.1 or overflows to NaN.

Example:
    learning_rate = 50.0

    # lr 50: 2.30 → nan; lr 5: 2.30 → 0.001; ||lr·g|| / ||W|| = 22 per step

Fix:
    learning_rate = 0.1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "learning-rate-too-high"
CODE = "BPD604"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        smaller = probe.falls_with_smaller_rate
        if smaller is None or probe.reference_falls:
            continue
        yours = probe.yours
        ratio = max(yours.ratios.values()) if yours.ratios else None
        text = (
            f"the learning rate is too high for `{probe.network}`: at {words.lr_text(probe)} the loss goes "
            f"{words.span(yours)}, at lr {smaller.lr:g} it falls {words.span(smaller)}"
        )
        if ratio is not None and ratio > training.RATIO_RANGE[1]:
            text += (
                f"; each step changes the weights by {ratio:.2g} times their size "
                f"(healthy: {training.RATIO_RANGE[0]:g} to {training.RATIO_RANGE[1]:g})"
            )
        text += f"; lower it to {smaller.lr:g}"
        evidence = (
            ("yours", f"{words.curve_text(yours)} (lr {probe.lr:g})"),
            *((f"lr {r.lr:g}", words.curve_text(r)) for r in probe.smaller),
        )
        if yours.ratios:
            ratios = ", ".join(f"{k} {v:.2g}" for k, v in yours.ratios.items())
            evidence += (("update / weight", f"median ||lr·g|| / ||W|| per step at lr {probe.lr:g}: {ratios}"),)
        evidence += (("probe", words.probe_description(probe)),)
        yield rule(NAME).finding(
            text + ".",
            layer=probe.network,
            measured=ratio,
            threshold=training.RATIO_RANGE[1] if ratio is not None else None,
            fix=f"learning_rate = {smaller.lr:g}",
            evidence=evidence,
            **words.location(context, probe, probe.settings.lr.line),
        )
