"""A training loop that visits data sorted by label in its stored order, one sample or one batch at a time.

What it finds:
    A training loop that walks its samples in the order they are stored
    (`for i in range(len(X))`, `order = np.arange(len(X))`, `for x, t in
    zip(X, y)`, `X[i:i + bs]`) in a file that shuffles nothing, where the
    labels it reads are sorted: all of one class, then all of the next. The
    step itself is replayed and its gradients are right.

Why it matters:
    Stochastic and mini-batch gradient descent assume each update sees a fair
    draw of the data. Sorted by label, every update of a long run pulls the
    network towards one class: it learns to answer that class, then forgets
    it for the next one, and the loss over all the data swings instead of
    falling, however right the gradients are.

Example:
    order = np.arange(len(X))
    for i in order:
        sgd_step(X[i], y[i])

Fix:
    order = rng.permutation(len(X))   # a new order every epoch
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-sorted-order"
CODE = "BPD620"
SEVERITY = "warning"
STAGE = "training"

SAMPLES = 20  # fewer samples than this say nothing of an order
LONGEST = 0.1  # the longest run of one label must hold at least this share of the samples
CLASSES = 50  # more distinct values than this are no labels


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.visit_order import stored_order

    source = context.source
    if source is None or source.tree is None:
        return
    for result in right_steps(context):
        if result.runner is None:
            continue
        found = stored_order(source.tree, result.step.loop)
        if found is None:
            continue
        namespace = result.after_one_pass()
        if namespace is None:
            continue
        width = 1 if not found.sliced else min((len(v) for b in found.batches if isinstance(v := namespace.get(b), np.ndarray) and v.ndim), default=None)
        if width is None:
            continue  # runs of samples whose size cannot be read
        sorted_by = next(((name, runs) for name in found.arrays if (runs := _label_runs(namespace.get(name), width)) is not None), None)
        if sorted_by is None:
            continue
        name, (classes, samples) = sorted_by
        message = (
            f"your training loop (line {found.loop_line}) visits the samples in the order they are stored (`{found.walks}`), and "
            f"`{name}` is sorted by label: {classes} runs of one class each over its {samples} samples, so every update of a run "
            f"pulls the network towards that class and the next run undoes it; visit them in a new random order every epoch "
            f"(`np.random.permutation({samples})`)"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.loop_line,
            pattern="sorted-order",
            measured=float(classes),
            evidence=(("labels", f"`{name}`: {classes} classes in {classes} runs, {samples} samples, in the order the loop reads them"),),
        )


def _label_runs(value: Any, width: int) -> tuple[int, int] | None:
    """(classes, samples) when `value` holds labels sorted into one run per class (integer labels, or
    one-hot rows) and the loop's updates, `width` samples each, fit in the longest run; else None."""
    if not isinstance(value, np.ndarray) or value.size == 0:
        return None
    labels = value
    if labels.ndim == 2 and labels.shape[1] > 1 and np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1):
        labels = labels.argmax(axis=1)
    labels = labels.ravel() if labels.ndim == 2 and 1 in labels.shape else labels
    if labels.ndim != 1 or len(labels) < SAMPLES or labels.dtype.kind not in "iufb":
        return None
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels) & (labels == np.round(labels))):
        return None
    classes = np.unique(labels)
    if not 2 <= len(classes) <= CLASSES:
        return None
    changes = int(np.count_nonzero(labels[1:] != labels[:-1]))
    if changes != len(classes) - 1:
        return None
    bounds = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1], True])
    longest = int(np.max(np.diff(bounds)))
    if longest < LONGEST * len(labels) or width >= longest:
        return None  # short runs, or batches that hold more than one class each
    return len(classes), len(labels)
