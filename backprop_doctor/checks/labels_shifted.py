"""One-hot targets built from labels minus one, while the labels start at 0.

What it finds:
    A statement builds one-hot targets from labels with a whole number taken
    off (`np.eye(K)[y - 1]`, `T[np.arange(n), y - 1] = 1`, `onehot[i, y[i] - 1]
    = 1`, `to_categorical(y - 1, K)`), the way labels numbered from 1 to K are
    turned into rows 0 to K-1, and the labels your program holds when its
    training step runs start at 0. Label 0 minus one is -1, which NumPy reads
    as the last row or column: class 0 is trained as class K-1. The statement,
    the labels' range and the share of them that wrap are named. Labels that
    really start at 1 (MATLAB's, a data set numbered from 1) are not reported.

Why it matters:
    Nothing raises and the loss falls: the network learns the shifted labels
    perfectly well. Every prediction is one class off, so the accuracy against
    your labels stays near zero (or at chance), and the loss you compute
    against the true labels stays high.

Example:
    y = np.random.randint(0, 4, 800)     # labels 0 .. 3
    T = np.eye(4)[y - 1]                 # class 0 becomes class 3

Fix:
    T = np.eye(4)[y]                     # labels that start at 0 are already row numbers
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "labels-shifted"
CODE = "BPD504"
SEVERITY = "error"
STAGE = "loss"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.labels import shifted_labels

    source = context.source
    if source is None:
        return
    if any(f.name == "synthetic-data" for f in context.findings):
        return  # a stand-in's labels are numbered its own way, not necessarily as the missing data set's
    seen: set[int] = set()
    for result in context.extras.get("replay") or []:
        if result.runner is None or result.driver or result.standin:
            continue  # made-up data says nothing of the program's labels
        for found in shifted_labels(result):
            if found.line in seen:
                continue
            seen.add(found.line)
            fixed = found.written.replace(f" - {found.shift}", "").replace(f"-{found.shift}", "")
            down = "one class" if found.shift == 1 else f"{found.shift} classes"
            yield rule(NAME).finding(
                f"your one-hot targets (line {found.line}) are built from `{found.written}`, but the labels `{found.labels}` run from "
                f"{found.low} to {found.high}: every label is moved {down} down and label {found.low} becomes {found.low - found.shift}, "
                f"which NumPy reads as the last class, so every sample is trained under another class's target and the network's "
                f"predictions never match `{found.labels}`; labels that start at 0 are row numbers already: build the targets from `{fixed}`",
                file=source.path,
                line=found.line,
                pattern="one-hot-shifted",
                measured=found.wrapped,
                evidence=(
                    ("labels", f"`{found.labels}`: {found.low} to {found.high}"),
                    ("targets", f"`{found.written}` at line {found.line}: {found.wrapped:.0%} of the labels become negative indices"),
                ),
            )
