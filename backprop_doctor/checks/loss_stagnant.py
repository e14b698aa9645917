"""The loss does not move while your network trains.

What it finds:
    In the training probe (a copy of your own network trained with plain
    in-place SGD at your learning rate and batch size, see `loss-rises`), the
    loss falls by less than 2% over a few hundred steps. The evidence says what
    the probe saw that explains it: updates that never reach the arrays the
    layers compute with, parameters without a usable gradient, ReLUs that never
    fire, or steps too small for the weights (||lr·g|| / ||W|| below 1e-4).
    When nothing explains it and every other check passes, it is only
    information: the network may simply need more steps than the probe takes.

Why it matters:
    A flat loss on learnable data means the parameters the forward pass uses are
    not changing, or change too little to matter. The most common cause in
    hand-written networks is a layer holding a copy of a parameter
    (`Affine(self.params['W1'].copy(), ...)`) or a training loop that rebinds
    `params[key]` to a new array: the update lands on an array no layer reads.

Example:
    self.layers['Affine1'] = Affine(self.params['W1'].copy(), self.params['b1'].copy())

    # yours: 1.10 → 1.10 in 200 steps; with layers sharing params: 1.10 → 0.01

Fix:
    self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "loss-stagnant"
CODE = "BPD603"
SEVERITY = "warning"
STAGE = "training"


def _reasons(probe: training.Probe) -> list[str]:
    yours = probe.yours
    reasons = []
    clause = words.cause_clause(probe)
    if clause:
        reasons.append(clause)
    if yours.skipped:
        names = ", ".join(f"`{k}`" for k in yours.skipped)
        reasons.append(f"`gradient` returns no gradient of the right shape for {names}, so the update skips it")
    dead = training.dead_layers(probe)
    for activity, when in dead:
        reasons.append(f"{activity.dead} of {activity.units} units of `{activity.layer}` never fire {when} (see dead-relu)")
    zero = [k for k, r in yours.ratios.items() if r == 0.0]
    if zero:
        names = ", ".join(f"`{k}`" for k in zero)
        plural = len(zero) > 1
        reasons.append(f"the gradient{'s' if plural else ''} of {names} {'are' if plural else 'is'} zero at every step")
    moving = [r for r in yours.ratios.values() if r > 0.0]
    if moving and not dead and max(moving) < training.RATIO_RANGE[0]:
        reasons.append(
            f"each step changes the weights by only {max(moving):.1e} of their size "
            f"(healthy: {training.RATIO_RANGE[0]:g} to {training.RATIO_RANGE[1]:g}): raise the learning rate"
        )
    return reasons


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        shape = probe.yours.shape
        if shape.trend != "stagnant":
            continue
        reasons = _reasons(probe)
        severity = None
        if not reasons:
            # Nothing explains it and the other checks passed: most likely a slow start (small
            # initial weights, plain SGD) that the probe's few steps do not get past.
            reasons = [
                "no other check finds a cause, so this network may simply need more steps or a larger "
                "learning rate than the probe gives it"
            ]
            severity = "info"
        evidence = words.curve_evidence(probe)
        if probe.yours.ratios:
            ratios = ", ".join(f"{k} {v:.1e}" for k, v in probe.yours.ratios.items())
            evidence += (("update / weight", f"median ||lr·g|| / ||W|| per step: {ratios}"),)
        yield rule(NAME).finding(
            severity=severity,
            message=f"The loss of `{probe.network}` does not fall: {words.span(probe.yours)} in "
            f"{len(probe.yours.losses)} SGD steps at {words.lr_text(probe)}; {'; '.join(reasons)}.",
            layer=probe.network,
            measured=shape.tail,
            threshold=shape.first * (1 - training.STAGNANT_DROP),
            fix=words.fix_for(probe),
            evidence=evidence,
            **words.location(context, probe),
        )
