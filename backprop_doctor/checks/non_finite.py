"""The loss, a gradient or a weight stops being a finite number while your network trains.

What it finds:
    The training probe (see `loss-rises`) checks the loss, the gradients and
    the parameters after every step, and reports the first step where one of
    them is NaN or infinite, and, for the loss, the first layer whose output is
    no longer finite.

Why it matters:
    Once a NaN enters the parameters every later number is NaN: training is
    over, however long the loop runs. It comes either from steps so large that
    the weights overflow (the loss climbs first), or from the arithmetic itself:
    `exp` of large scores without subtracting the maximum, `log(0)` without an
    epsilon, a division by a sum that underflowed to 0.

Example:
    def softmax(x):
        return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)   # exp(1000) = inf

Fix:
    def softmax(x):
        x = x - np.max(x, axis=1, keepdims=True)
        return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import locate, training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "non-finite"
CODE = "BPD606"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        nf = probe.yours.non_finite
        if nf is None:
            continue
        shape = probe.yours.shape
        climbing = shape.before in ("rises", "diverges")
        smaller = probe.falls_with_smaller_rate
        if climbing or (smaller is not None and not probe.reference_falls):
            cause = "the loss was climbing before, so the updates overflow; " + (
                words.cause_clause(probe) or "lower the learning rate"
            )
            fix = words.fix_for(probe)
            where = words.location(context, probe, probe.settings.lr.line if smaller is not None else None)
        else:
            cause = (
                "before any update, so the forward pass itself overflows or takes log(0)"
                if nf.step == 0
                else "while the loss was falling, so the arithmetic overflows"
            ) + ": subtract the row maximum before `exp` and keep `log` away from 0"
            fix = training.SWAP_FIXES["softmax"]
            where = (
                locate.where(getattr(nf.layer_cls, "forward", nf.layer_cls)).fields()
                if nf.layer_cls is not None
                else words.location(context, probe)
            )
            if where.get("line") is None:
                where = words.location(context, probe)
        yield rule(NAME).finding(
            f"Training `{probe.network}` produces NaN or infinity: {words.describe_non_finite(nf)} "
            f"at {words.lr_text(probe)}; {cause}.",
            layer=nf.layer or probe.network,
            param=nf.params[0] if nf.params else None,
            measured=float(nf.step),
            fix=fix,
            evidence=(("first non-finite", words.describe_non_finite(nf)), *words.curve_evidence(probe)),
            **where,
        )
