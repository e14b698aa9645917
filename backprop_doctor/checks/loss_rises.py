"""The loss goes up while your network trains.

What it finds:
    backprop-doctor trains a copy of your own network, built with your own
    constructor call, for a few hundred steps of plain SGD
    (`params[key] -= lr * grads[key]`, in place, through your `gradient(x, t)`)
    at the learning rate and batch size of your script, on learnable data of the
    right shapes: one Gaussian cluster per class, or your `--data file.npz`.
    This check fires when the loss ends more than 10% above where it began.
    When an earlier finding blames a standard piece (softmax with
    cross-entropy, ReLU, sigmoid, affine, parameters the layers do not share),
    the same steps are run again with a correct reference swapped in for it,
    and both curves are shown side by side.

Why it matters:
    On learnable data, a correct network with a sane learning rate lowers its
    loss. A rising loss means the steps go uphill: the gradient does not belong
    to the loss being minimised (a softmax over the whole batch instead of each
    row, a wrong backward), or the steps overshoot.

Example:
    def softmax(x):
        x = x - np.max(x)
        return np.exp(x) / np.sum(np.exp(x))   # one distribution over the whole batch

    # yours: 6.91 → 16.0 in 200 steps; with per-row softmax: 2.30 → 0.01

Fix:
    def softmax(x):
        x = x - np.max(x, axis=-1, keepdims=True)
        return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor import training
from backprop_doctor.checks import _training_words as words
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "loss-rises"
CODE = "BPD601"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    for probe in training.probe_for(context):
        shape = probe.yours.shape
        if shape.trend != "rises":
            continue
        clause = words.cause_clause(probe) or "check the gradients and the learning rate"
        yield rule(NAME).finding(
            f"The loss of `{probe.network}` rises during training: {words.span(probe.yours)} in "
            f"{len(probe.yours.losses)} SGD steps at {words.lr_text(probe)}; {clause}.",
            layer=probe.network,
            measured=shape.tail,
            threshold=shape.first * training.RISE_RATIO,
            fix=words.fix_for(probe),
            evidence=words.curve_evidence(probe),
            **words.location(context, probe),
        )
