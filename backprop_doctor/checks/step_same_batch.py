"""A mini-batch loop that trains on the same batch at every pass.

What it finds:
    A loop over an epoch's batches (`for i in range(0, len(X), bs):`, inside
    the epochs' loop) that cuts its batch with a slice reading nothing the
    loop changes (`xb, yb = X[:bs], y[:bs]`: not `i`, not a shuffled order),
    where the data array holds more samples than the batch; or a loop over
    an epoch's samples (`for i in range(n)`, `for i in np.random.permutation(n)`)
    that takes its sample by an index reading nothing the loop changes
    (`x_i, y_i = X[0], y[0]`: per-sample SGD on one sample, every time). The
    step itself is replayed and its gradients are right.

Why it matters:
    Every update sees the same few samples, and the rest of the data never
    reaches the network: the loss on that batch falls while the loss over all
    the data stalls, or rises when the data is stored in order (the first
    batch holds one class only, and the network learns to answer it).

Example:
    for i in range(0, len(X), bs):
        xb, yb = X[:bs], y[:bs]

Fix:
    for i in range(0, len(X), bs):
        xb, yb = X[order[i:i + bs]], y[order[i:i + bs]]

A training loop that computes a shuffled order at every pass and never reads it (`perm = np.random.permutation(n)`,
then `xb = X[:bs]`) is the same fault (pattern `shuffled-order-unused`): named at the cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.checks._step_settings import right_steps
from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-same-batch"
CODE = "BPD619"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.static.same_batch import fixed_batch

    source = context.source
    if source is None or source.tree is None:
        return
    for result in right_steps(context):
        if result.runner is None:
            continue
        found = fixed_batch(source.tree, result.step.loop)
        if found is None:
            continue
        namespace = result.after_one_pass()
        if namespace is None:
            continue
        batch, data = namespace.get(found.batch), namespace.get(found.data)
        if isinstance(batch, np.generic):
            batch = np.asarray(batch)  # `y_i = y[0]` of a vector of targets: one number
        if not (isinstance(batch, np.ndarray) and isinstance(data, np.ndarray) and (batch.ndim or found.sample) and data.ndim):
            continue
        if found.sample and batch.ndim == data.ndim - 1 and len(data) > 1:
            yield _same_sample(source, found, len(data))
            continue
        taken, held = len(batch), len(data)
        if found.sample and batch.ndim != data.ndim or not 0 < taken < held:
            continue
        width = found.width or str(taken)
        if found.unused_order is not None:
            yield _order_unused(source, found, taken, held, width)
            continue
        message = (
            f"your mini-batch loop (line {found.loop_line}) cuts the same batch at every pass: `{found.cut}` (line {found.line}) reads "
            f"neither `{found.variable}` nor anything the loop changes, so every update trains on the same {taken} of the {held} "
            f"samples of `{found.data}` and the other {held - taken} never reach the network; cut the batch at "
            f"`{found.variable}` (`{found.data}[{found.variable}:{found.variable} + {width}]`, better from a shuffled order)"
        )
        yield rule(NAME).finding(
            message,
            file=source.path,
            line=found.line,
            highlight=tuple(sorted({found.line, found.loop_line})),
            pattern="same-batch",
            measured=taken / held,
            evidence=(("batch", f"`{found.batch}`: {taken} of the {held} samples of `{found.data}`, the same at every pass"),),
        )


def _order_unused(source: Any, found: Any, taken: int, held: int, width: str) -> Finding:
    """A loop that computes a shuffled order at every pass and cuts its batch without it (`perm = np.random.permutation(n)`,
    then `xb = X[:bs]`)."""
    order = found.unused_order
    message = (
        f"your training loop (line {found.loop_line}) computes a shuffled order `{order}` at every pass (line {found.order_line}) "
        f"and never uses it: `{found.cut}` (line {found.line}) cuts the same batch at every pass, so every update trains on the "
        f"same {taken} of the {held} samples of `{found.data}` and the other {held - taken} never reach the network; "
        f"take the batch through the order (`{found.data}[{order}[:{width}]]`)"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=found.line,
        highlight=tuple(sorted({found.line, found.order_line, found.loop_line})),
        pattern="shuffled-order-unused",
        measured=taken / held,
        evidence=(("batch", f"`{found.batch}`: {taken} of the {held} samples of `{found.data}`, the same at every pass; `{order}` is never read"),),
    )


def _same_sample(source: Any, found: Any, held: int) -> Finding:
    """A loop over the samples that takes the same one at every pass (`x_i = X[0]` under `for i in range(n)`)."""
    index = found.cut[len(found.data) + 1 : -1]
    which = "the first sample" if index == "0" else "the last sample" if index == "-1" else f"the sample at `{index}`"
    message = (
        f"your loop over the samples (line {found.loop_line}) takes the same sample at every pass: `{found.cut}` (line {found.line}) "
        f"reads neither `{found.variable}` nor anything the loop changes, so every update trains on one sample only, {which} "
        f"of the {held} of `{found.data}`, and the other {held - 1} never reach the network: the loss over the data stalls, "
        f"or rises as the network learns to answer that one sample everywhere; index the sample by the loop's variable (`{found.data}[{found.variable}]`)"
    )
    return rule(NAME).finding(
        message,
        file=source.path,
        line=found.line,
        highlight=tuple(sorted({found.line, found.loop_line})),
        pattern="same-sample",
        measured=1 / held,
        evidence=(("sample", f"`{found.cut}`: 1 of the {held} samples of `{found.data}`, the same at every pass"),),
    )
