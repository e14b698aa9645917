"""A mini-batch step whose gradients are divided by the size of the whole data set.

`for batch in ...: xb, yb = X[batch], y[batch]; d = 2 * (pred - yb) / N` with `N = len(X)`: every
gradient carries one factor, `1/N`, where the mean over the batch carries `1/B`. Against a loss the
program only reports, or one the replay inferred from the output error (a sum over the batch),
`gradients._program_scale` takes a factor every gradient shares for the program's own scale, and
`1/N` passes for one (N is a size the step reads, and a number the program holds). What tells the
two apart: the loss the step is measured against is computed from arrays of B samples, none of N,
and the program divides by a count that reads N (`N`, `len(X)`, `X.shape[0]`) on a line the step
runs. Then the gradients are B/N of the batch's mean loss's: the learning rate is cut by N/B, and
the scale is no convention of the program's but a mistake.

Plain numbers out (`DataSized`); `checks/step_divided_by_data_size.py` words it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.static.divisions import Divisor, count_divisors
from backprop_doctor.static.steps import _targets, reads

COMMON = 3e-2  # factors within this of each other are one factor (as `gradients.COMMON`)
_KS = (1.0, 2.0, 0.5)  # a square's 2, a `0.5 *` of the loss: factors a convention carries beside the count


@dataclass(frozen=True)
class DataSized:
    size: int  # N: the samples of the data set the batch is drawn from
    of: str  # an array the step reads that holds N samples (`X`)
    batch: int  # B: the samples the loss is computed over
    batch_of: str  # how to read B in the program's names (`len(yb)`, `yb.shape[1]`)
    divisor: Divisor  # where the program divides by N
    factor: float  # the factor every gradient carries against the loss measured


def _close(a: float, b: float) -> bool:
    return abs(a / b - 1) <= COMMON


def _count(value: Any) -> int | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return None


def _resolved(divisor: Divisor, namespace: dict[str, Any]) -> int | None:
    kind, name, number = divisor.read
    if kind == "number":
        return number
    value = namespace.get(name)
    if kind == "name":
        return _count(value)
    if kind == "len":
        try:
            return len(value) if isinstance(value, (np.ndarray, list, tuple)) else None
        except TypeError:  # a 0-d array
            return None
    shape = getattr(value, "shape", None) if isinstance(value, np.ndarray) else None
    return int(shape[number]) if shape is not None and -len(shape) <= number < len(shape) else None


def _sizes(value: Any) -> set[int]:
    return {int(n) for n in np.shape(value) if n > 1} if isinstance(value, np.ndarray) else set()


def _shared_factor(result: Any) -> float | None:
    """The one positive factor every measured parameter's gradient carries against the loss (judged
    right at the program's scale or not), or None."""
    measured = [m for _, m in result.parameters if not m.unused and not m.inconclusive]
    if not measured or any(m.accumulated or m.decay is not None or m.penalty_left_out is not None or m.truncated for m in measured):
        return None
    factors = [m.factor for m in measured if (m.proportional or m.single) and m.factor is not None]
    if len(factors) != len(measured) or all(m.single and not m.proportional for m in measured) or not all(f > 0 for f in factors):
        return None
    return factors[0] if all(_close(f, factors[0]) for f in factors) else None


def data_sized(result: Any, namespace: dict[str, Any]) -> DataSized | None:
    """Every gradient of the step divided by the size of the data set its batch is drawn from, where
    its loss is over the batch (the module's docstring); judged at the batch's mean from then on."""
    loss = result.loss
    if loss is None or result.maximised or result.clipped or not result.parameters or result.runner is None:
        return None
    factor = _shared_factor(result)
    if factor is None or _close(factor, 1.0):
        return None
    from backprop_doctor.replay.gradients import _names_in

    by_loss = {name: _sizes(namespace.get(name)) for name in sorted(_names_in(loss.expression))}
    loss_sizes = set().union(*by_loss.values()) if by_loss else set()
    plain = [int(n) for n in result.batch_sizes if not hasattr(n, "of")]  # a list's length (`Size`) is no data set
    for size in sorted(plain, reverse=True):
        if size in loss_sizes:
            continue
        batches = [b for b in loss_sizes & set(plain) if 1 < b < size]
        if not batches:
            continue
        batch = max(batches)
        convention = any(_close(factor, k / batch) or _close(factor, k * batch) for k in _KS)
        over = factor * size / batch  # the factor against the batch's mean, were N the batch's size
        mean = next((k for k in _KS if _close(over, k)), None)  # the loss a mean, its gradient / N
        summed = next((k for k in _KS if _close(over * batch, k)), None)  # the loss a sum, its gradient / N
        if mean is None and summed is None:
            continue
        divisor = _divisor(result, namespace, size, batch)
        if divisor is None:
            continue
        if convention and not _feeds_updates(result, divisor):
            continue  # a mean over the batch (or its sum against a mean) reads as this factor too: the convention, not N
        found = DataSized(size, _holding(result, namespace, size), batch, _batch_words(namespace, sorted(by_loss), batch), divisor, factor)
        for _, measured in result.parameters:  # judged at the batch's mean: B/N of it is wrong
            if measured.scale is not None:
                measured.scale = measured.scale * size / batch
                measured.exact_scale = False
        return found
    return None


def _divisor(result: Any, namespace: dict[str, Any], size: int, batch: int) -> Divisor | None:
    """The first division on a line the step runs, in the checked file, by a count that reads `size`."""
    from backprop_doctor.static.files import source_tree

    path = os.path.abspath(result.runner.path)
    lines = result.lines_run().get(path)
    if not lines:
        return None
    tree = source_tree(result.runner.path)[1]
    if tree is None:
        return None
    values = {**getattr(result.runner.state, "values", {}), **namespace}
    return next((d for d in count_divisors(tree, lines) if _resolved(d, values) == size), None)


def _feeds_updates(result: Any, divisor: Divisor) -> bool:
    """The division by N is written in the step itself, in a statement whose result its updates read
    (`d = 2 * (pred - yb) / N` before `gw2 = h.T @ d; w2 -= lr * gw2`). Where N is B squared (over
    the convention's 2 or 0.5: 512 samples in batches of 32) a factor of B/N also reads as a mean
    over the batch against a summed loss; the division the gradients are made of tells them apart."""
    step = getattr(result, "step", None)
    prefix = tuple(getattr(step, "prefix", ()) or ())
    if not prefix:
        return False
    from backprop_doctor.replay.gradients import _names_in

    needed = {name for site in getattr(step, "updates", ()) for name in _names_in(getattr(site, "step", ""))}
    for statement in reversed(prefix):
        if set(_targets(statement)) & needed:
            if statement.lineno == divisor.line:
                return True
            needed |= reads(statement)
    return False


@dataclass(frozen=True)
class DividedTwice:
    """Every gradient of the step carries 1/B (B the batch) against a loss the program writes as a mean over
    the batch: the mean's 1/B taken twice, first at `first` (`dz2 = (p - yb) / m`), again at `again`."""

    batch: int
    first: Divisor
    again: tuple[Divisor, ...]  # the later divisions by B on the updates' chain (`dW2 = h.T @ dz2 / m`)


def divided_twice(result: Any, namespace: dict[str, Any], batch: int) -> DividedTwice | None:
    """The divisions by the batch's size `batch` on the statements the step's updates are computed from,
    in the order the step runs them, when there are two on one chain: the first is where the mean over
    the batch is taken, the rest take it again."""
    from backprop_doctor.static.files import source_tree

    step = getattr(result, "step", None)
    prefix = tuple(getattr(step, "prefix", ()) or ())
    if not prefix or result.runner is None:
        return None
    path = os.path.abspath(result.runner.path)
    lines = result.lines_run().get(path)
    tree = source_tree(result.runner.path)[1]
    if not lines or tree is None:
        return None
    from backprop_doctor.replay.gradients import _names_in

    needed = {name for site in getattr(step, "updates", ()) for name in _names_in(getattr(site, "step", ""))}
    chain: set[int] = set()
    for statement in reversed(prefix):
        if set(_targets(statement)) & needed:
            chain.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
            needed |= reads(statement)
    values = {**getattr(result.runner.state, "values", {}), **namespace}
    found = [d for d in count_divisors(tree, lines & chain) if _resolved(d, values) == batch]
    if len(found) < 2:
        return None
    return DividedTwice(batch, found[0], tuple(found[1:]))


def _holding(result: Any, namespace: dict[str, Any], size: int) -> str:
    """The first name the step reads whose array holds `size` samples (`X`): one of numbers before one of
    indices (`order = np.random.permutation(N)`)."""
    values = {**getattr(result.runner.state, "values", {}), **namespace}
    holding = [
        name for statement in result.step.prefix for name in sorted(reads(statement))
        if isinstance(value := values.get(name), np.ndarray) and value.ndim >= 1 and (value.shape[0] == size or (value.ndim == 2 and value.shape[1] == size))
    ]  # fmt: skip
    return min(holding, key=lambda name: (values[name].dtype.kind in "iub", holding.index(name)), default="")


def _batch_words(namespace: dict[str, Any], names: list[str], batch: int) -> str:
    """`len(yb)` or `yb.shape[1]`: the batch's size in the names of the loss's own arrays (a target
    array of the batch, which the program's own names make plain, before an output it computed)."""
    for name in sorted(names, key=lambda n: not n.lower().startswith(("y", "t", "label", "target"))):
        shape = np.shape(namespace.get(name)) if isinstance(namespace.get(name), np.ndarray) else ()
        if shape and shape[0] == batch:
            return f"len({name})"
        if len(shape) == 2 and shape[1] == batch:
            return f"{name}.shape[1]"
    return ""


__all__ = ["DataSized", "DividedTwice", "data_sized", "divided_twice"]
