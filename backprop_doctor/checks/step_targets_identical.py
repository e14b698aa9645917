"""Every target the training step compares its output with is the same: the targets carry no information.

What it finds:
    The targets the replayed step's loss compares with its output (`P - Y`, `out - y`,
    `probs[np.arange(n), y]`, through the functions it calls) hold the same row for every sample
    of its inputs: a label smoothing of 1 (`(1 - s) * one_hot + s / K` with `s = 1`), a one-hot of a
    constant label. The line that binds them before the loop is named, and a setting on another line
    that makes them so (`smoothing = 1.0`). Judged only when the step's gradients are right. A batch
    of one sample, or targets that vary (an autoencoder's, a regression's), stay quiet.

Why it matters:
    Every gradient can be right and the network still learns nothing: asked the same answer for
    every input, it learns to give that answer everywhere, and its accuracy stays at chance.

Example:
    smoothing = 1.0
    T = (1.0 - smoothing) * np.eye(K)[labels] + smoothing / K

Fix:
    smoothing = 0.1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-targets-identical"
CODE = "BPD638"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.uniform import uniform_found
    from backprop_doctor.static.fed_data import from_one, settings_read
    from backprop_doctor.static.files import source_tree

    source = context.source
    if source is None:
        return
    for result, found, statement in uniform_found(context, "target"):
        tree = source_tree(result.runner.path)[1]
        settings = settings_read(tree, statement, result.step.loop_line) if tree is not None else []
        driving = [(name, line, value) for name, line, value in settings if from_one(statement, name) and value.value == 1]
        lines = [found.line]
        if driving:
            name, line, value = driving[0]
            lines.append(line)
            why = (
                f"`{name} = {value.value!r}` (line {line}) makes `(1 - {name})` 0, so nothing of the labels is left in them; "
                f"set `{name}` well below 1 (0.1 is usual) or leave it out"
            )
        else:
            why = f"make `{found.name}` hold each sample's own target"
        message = (
            f"every target in `{found.name}` (line {found.line}) is the same, {found.value}, for all {found.samples} samples the step "
            f"trains on: the network is asked one answer for every input and learns nothing of the inputs, however right its "
            f"gradients are; {why}"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            highlight=tuple(sorted(set(lines))),
            pattern="targets-identical",
            measured=1.0,
            evidence=(("targets", f"`{found.name}`: {found.samples} samples, every one {found.value}"),),
        )
