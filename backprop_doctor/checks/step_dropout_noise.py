"""A dropout that keeps so few units that the training signal is mostly noise.

What it finds:
    A training step whose gradients are right and whose pass draws a
    dropout mask (`mask = (np.random.rand(*h.shape) < keep_prob) / keep_prob`,
    `rng.random(h.shape) > drop_rate`, `np.random.binomial(1, p, h.shape)`)
    that keeps a unit with a probability p where the mask's noise is at least
    `NOISE` times the signal it passes on: an inverted mask is 0 or 1/p, its
    mean 1 and its standard deviation sqrt((1 - p) / p), so p ≤ 0.1. The
    probability is named where it is set (`keep_prob = 0.05`).

Why it matters:
    Almost every unit is zeroed at every step and the few survivors are
    multiplied by 1/p (20 for p = 0.05): each update follows a different,
    tiny random sub-network, the gradient is mostly noise, and the loss of
    the whole network (dropout off) barely falls. Usual keep probabilities
    are 0.5 to 0.9.

Example:
    keep_prob = 0.05
    mask = (np.random.rand(*a1.shape) < keep_prob) / keep_prob

Fix:
    keep_prob = 0.8     # the probability to KEEP a unit, not to drop it
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor.checks._step_settings import right_steps, setting_value
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-dropout-noise"
CODE = "BPD629"
SEVERITY = "warning"
STAGE = "training"

NOISE = 3.0  # the inverted mask's standard deviation over its mean, sqrt((1 - p) / p): 3 at p = 0.1


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.dropout import dropout_masks
    from backprop_doctor.static.noise import drawn_noise
    from backprop_doctor.static.penalty_strength import setting_site

    source = context.source
    if source is None or source.tree is None:
        return
    masks = dropout_masks(source.tree)
    if not masks:
        return
    for result in right_steps(context):
        if drawn_noise(source.tree, result.step.loop) is None:
            continue  # the pass draws no mask
        ran = result.lines_run().get(os.path.abspath(source.path), set())
        for mask in masks:
            if mask.line not in ran:
                continue  # drawn outside the pass (a split of the data, an evaluation)
            site = setting_site(source.tree, mask.name) if mask.name else None
            value = mask.number
            if value is None and mask.name is not None:
                value = setting_value(result, mask.name)
                if value is None and site is not None:
                    value = site.value
            if value is None or not 0 < value < 1:
                continue
            keep = value if mask.keeps_below else 1 - value
            noise = math.sqrt((1 - keep) / keep)
            if noise < NOISE:
                continue
            yield _finding(source, mask, site, value, keep, noise)
            return


def _finding(source: Any, mask: Any, site: Any, value: float, keep: float, noise: float) -> Finding:
    line = site.line if site is not None else mask.line
    if site is not None:
        where = f"`{site.text}` (line {site.line}), used by the mask at line {mask.line},"
    else:
        where = f"`{mask.statement}` (line {mask.line})"
    if mask.keeps_below:
        fix = f"set the keep probability to 0.5–0.9 (`{mask.name or 'keep_prob'} = 0.8`)"
        reading = "keep probability"
    else:
        fix = f"`{mask.name}` is the rate of units dropped here: set it to 0.1–0.5 (`{mask.name} = 0.2`)" if mask.name else "drop 10–50 % of the units"
        reading = "drop rate"
    message = (
        f"your dropout keeps only {keep:.0%} of the units: {where} gives each unit a keep probability of {keep:g}, and every "
        f"unit kept is scaled by {1 / keep:.3g}, so the mask's noise is {noise:.1f} times the signal it passes on "
        f"(sqrt((1 - p) / p)) and each step trains a different tiny random sub-network: the gradient is mostly noise and the "
        f"loss of the whole network can barely fall; {fix}"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=line,
        highlight=tuple(sorted({line, mask.line})),
        param=mask.name,
        pattern="dropout-noise",
        measured=keep,
        evidence=(("dropout", f"{reading} {value:g}: {keep:.0%} of the units kept, noise {noise:.1f}× the signal"),),
    )
