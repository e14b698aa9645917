"""Every sample the training step feeds its network is the same: the inputs carry no information.

What it finds:
    The array the replayed step multiplies by its first weights (`X @ W1`, through the functions it
    calls: `forward_backward(X[idx], ...)` reads `X`) holds the same values for every sample, often
    all 0 (`raw // 255` on 8-bit pixels floors each one to 0). The line that binds it before the
    loop is named. Judged only when the step's gradients are right: a wrong gradient comes first. A
    batch of one sample, or inputs whose rows differ (one-hot rows, a constant column), stay quiet.

Why it matters:
    Every gradient can be right and the network still learns nothing of the inputs: it gets one
    input for every sample, so the best it can do is answer the targets' mean for all of them. The
    loss falls to that level and stays there.

Example:
    X = raw.reshape(len(raw), -1) // 255     # uint8 pixels: every value 0

Fix:
    X = raw.reshape(len(raw), -1) / 255
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-inputs-identical"
CODE = "BPD637"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.uniform import uniform_found
    from backprop_doctor.static.fed_data import floor_divided

    source = context.source
    if source is None:
        return
    for _, found, statement in uniform_found(context, "input"):
        what = f"every value of `{found.name}` is 0" if found.zero else f"every sample of `{found.name}` is the same, {found.value}"
        if found.zero and floor_divided(statement):
            why = "`//` floors each value smaller than its divisor to 0 (on integers, pixels of 0 to 255 divided by 255 give 0 or 1); divide with `/`"
        else:
            why = f"make `{found.name}` hold each sample's own values"
        message = (
            f"{what} (line {found.line}), for all {found.samples} samples the step feeds its network: it gets the same input for "
            f"every sample and can learn nothing but the targets' mean, however right its gradients are; {why}"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            highlight=(found.line,),
            pattern="inputs-identical",
            measured=1.0,
            evidence=(("inputs", f"`{found.name}`: {found.samples} samples, every one {found.value}"),),
        )
