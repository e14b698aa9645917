"""Data that carries no information: every sample of the step's inputs the same, or every target.

`static.fed_data` names the arrays the step feeds its network (inputs, targets) and where the program
binds them; here their values after one pass of the replayed step are read. Inputs whose every sample
is the same array (all 0 after `raw // 255` on 8-bit pixels) give the network one input for all of
them; targets whose every row is the same (a label smoothing of 1) ask one answer for all. Plain
numbers out (`Uniform`); `checks/step_inputs_identical.py` and `checks/step_targets_identical.py` word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any

import numpy as np

NO_LOSS = "the step computes no loss that could be read"


@dataclass(frozen=True)
class Uniform:
    name: str  # the data array (`X`)
    line: int  # where the program binds it before its loop
    role: str  # "input" or "target"
    samples: int  # how many samples it holds
    zero: bool  # every value is 0
    value: str  # one sample, shortened (`[0.25 0.25 0.25 0.25]`)
    integer: bool  # its values are whole numbers (an integer array)


def readable(result: Any) -> bool:
    """Whether the step ran from the program's own state with its gradients right, or unread for want of a
    loss (`_, _, grads = forward_backward(...)`): its data is the program's either way."""
    if result.runner is None or result.wrong or result.driver or result.standin:
        return False
    return bool(result.parameters) or result.why == NO_LOSS


def uniform_found(context: Any, role: str) -> Iterator[tuple[Any, Uniform, Any]]:
    """(replayed step, `Uniform`, the statement that made it) for each array of `role` ("input" or "target")
    that every sample holds the same, once per name and line, over the steps whose gradients are right
    (`readable`): what the `step-inputs-identical` and `step-targets-identical` checks word."""
    from backprop_doctor.static.fed_data import statement_at
    from backprop_doctor.static.files import source_tree

    named: set[tuple[str, int]] = set()
    for result in context.extras.get("replay") or []:
        if not readable(result):
            continue  # a wrong gradient first; made-up data says nothing of the program's own
        for found in uniform_data(result):
            if found.role != role or (found.name, found.line) in named:
                continue
            named.add((found.name, found.line))
            tree = source_tree(result.runner.path)[1]
            yield result, found, statement_at(tree, found.line) if tree is not None else None


def _fed_inputs(result: Any) -> tuple[list[Any], list[tuple[Any, np.ndarray]], dict[str, Any]] | None:
    """(every array the step feeds, its inputs with their samples along axis 0, the names after one pass), when
    the step's inputs are arrays of one number of samples, two or more."""
    from backprop_doctor.static.fed_data import fed_data
    from backprop_doctor.static.files import source_tree

    runner = result.runner
    if runner is None:
        return None
    tree = source_tree(runner.path)[1]
    if tree is None:
        return None
    step = result.step
    moved = {re.match(r"\w*", m.site.update.target).group() for m, _ in result.parameters}
    moved |= {re.match(r"\w*", site.update.target).group() for site in step.updates}
    fed = fed_data(tree, step.prefix, step.loop_line, step.function_line, moved)
    if not any(f.role == "input" for f in fed):
        return None
    namespace = result.after_one_pass()
    if namespace is None:
        return None
    inputs = [(f, _samples(namespace.get(f.read or f.name), f.axis)) for f in fed if f.role == "input"]
    inputs = [(f, v) for f, v in inputs if v is not None]
    counts = {len(v) for _, v in inputs}
    if len(counts) != 1:
        return None  # no one input array, or several of different sizes: nothing to pair targets with
    (count,) = counts
    if count < 2:
        return None  # one sample: nothing to tell apart
    return fed, inputs, namespace


def uniform_data(result: Any) -> list[Uniform]:
    """The replayed step's inputs and targets whose every sample is the same, inputs first."""
    gathered = _fed_inputs(result)
    if gathered is None:
        return []
    fed, inputs, namespace = gathered
    count = len(inputs[0][1])
    axis = inputs[0][0].axis
    found = [_uniform(f, v) for f, v in inputs]
    names = {f.name for f, _ in inputs} | {f.read for f, _ in inputs}
    for f in fed:
        if f.role != "target" or f.name in names or f.read in names:
            continue
        values = _samples(namespace.get(f.read or f.name), axis, vector=True)
        if values is None or len(values) != count:
            continue
        found.append(_uniform(f, values))
    return [u for u in found if u is not None]


def _samples(value: Any, axis: int, vector: bool = False) -> np.ndarray | None:
    """The array with its samples along axis 0, or None when it is no numeric data array."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf" or value.size == 0:
        return None
    if value.ndim < 2 and not (vector and value.ndim == 1):
        return None
    if value.ndim >= 2 and axis == 1:
        value = np.moveaxis(value, 1, 0)
    return value


def _uniform(fed: Any, values: np.ndarray) -> Uniform | None:
    first = values[0]
    if not np.all(values == first):
        return None
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        return None
    shown = np.array2string(np.asarray(first), precision=4, threshold=8, edgeitems=3, max_line_width=10_000)
    return Uniform(fed.name, fed.line, fed.role, len(values), bool(np.all(values == 0)), shown, values.dtype.kind in "biu")


# Inputs that hardly vary from sample to sample: every feature's spread over the samples this small
# beside its own mean (a standardisation whose statistics an outlier set: every value -0.05 +- 4e-4), and
# this small in itself, so a first layer drawn at the usual scale sees nearly one input for all samples.
# Data legitimately small but spread (pixels / 255, one-hot rows, rare word counts) is spread beside its mean.
COLLAPSED_RATIO = 0.05
COLLAPSED_SPREAD = 1e-2
# With no mean to be small beside (features centred at 0), a spread this small in every feature, when the
# step also cannot fit a few samples (`curve.Tiny`): nearly constant inputs are then why.
FLAT_SPREAD = 1e-3


@dataclass(frozen=True)
class Collapsed:
    """Inputs whose every feature barely varies over the samples (`collapsed_inputs`)."""

    name: str  # the data array (`X`)
    line: int  # where the program binds it before its loop
    samples: int
    features: int
    spread: float  # the largest standard deviation of a feature over the samples
    mean: float  # the mean's size of the feature with the largest spread beside it (0 when centred)
    ratio: float | None  # the largest spread of a feature over its own mean's size; None for features centred at 0


def collapsed_inputs(result: Any) -> list[Collapsed]:
    """The replayed step's input arrays, of floats, whose every feature's standard deviation over the samples is
    at most `COLLAPSED_SPREAD` and at most `COLLAPSED_RATIO` times its mean's size; or, when the step cannot fit
    a few samples (`result.tiny` judged, not fitted), at most `FLAT_SPREAD`. Inputs whose every sample is the
    same are `uniform_data`'s, not these."""
    if not readable(result):
        return []
    gathered = _fed_inputs(result)
    if gathered is None:
        return []
    _, inputs, _ = gathered
    tiny = result.tiny
    if tiny is not None and tiny.alike is not None:
        return []  # rows of a few distinct values with different targets (standardised over each sample): `step-cannot-overfit` words it
    stuck = tiny is not None and tiny.judged and not tiny.fitted and tiny.own_fit is None
    found: list[Collapsed] = []
    for fed, values in inputs:
        if values.dtype.kind != "f" or values.ndim < 2:
            continue  # integers (indices, counts, pixels) are no standardised features
        rows = values.reshape(len(values), -1).astype(np.float64)
        if not np.all(np.isfinite(rows)) or np.all(rows == rows[0]):
            continue  # not numbers, or every sample the same (`step-inputs-identical`)
        spread, middle = rows.std(axis=0), np.abs(rows.mean(axis=0))
        if spread.max() == 0.0 or middle.max() == 0.0 and not stuck:
            continue
        relative = bool(np.all(spread <= COLLAPSED_RATIO * middle)) and spread.max() <= COLLAPSED_SPREAD
        flat = stuck and spread.max() <= FLAT_SPREAD
        if not (relative or flat):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(middle > 0, spread / np.where(middle > 0, middle, 1.0), np.inf)
        worst = int(np.argmax(ratios)) if relative else int(np.argmax(spread))
        found.append(
            Collapsed(
                fed.name, fed.line, len(rows), rows.shape[1], float(spread.max()), float(middle[worst]),
                float(ratios[worst]) if relative else None,
            )
        )  # fmt: skip
    return found


__all__ = ["COLLAPSED_RATIO", "COLLAPSED_SPREAD", "FLAT_SPREAD", "NO_LOSS", "Collapsed", "Uniform", "collapsed_inputs", "readable", "uniform_data"]
