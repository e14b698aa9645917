"""Numerical probes of the batch axis and the loss reduction, and the inputs they run on.

The checks `softmax-not-per-row`, `batch-coupling`, `unshared-parameter`,
`loss-not-mean` and `init-loss` ask questions of arrays and of callables:
does every row of this output sum to 1, does changing sample j change the
output of sample i, what happens to the loss when the batch is tiled twice.
The answers are computed here, as plain numbers; the checks turn them into
findings. Functions that take a callable call it on copies of their inputs
and never change what they were given.

One section serves the checks beyond the numbers: "Inputs" walks the objects
a check context holds (built networks and standalone layers) and yields each
layer with the input that reaches it, always from an isolated copy, so every
check probes the same real activations. Where in the source a finding points
is not computed here: the lines that ran come from `locate.executed`, the
reductions on them from `static.reductions`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import global_random
from backprop_doctor.conventions._base import FORWARD_SEED, is_float_array, isolated
from backprop_doctor.conventions._classlayer import is_loss_layer
from backprop_doctor.conventions.networks import Network

# How close to 1 a sum must be for an array to "look like" probabilities.
SUM_TOLERANCE = 1e-3
# Samples perturbed one at a time: all of them in a batch up to this size, else three.
ALL_SAMPLES_UP_TO = 6

_TINY = 1e-300


# --------------------------------------------------------------------------- running user code


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Run user code without side effects on the tool's process that matter here.

    NumPy's global random state is restored on exit, whatever the block did to
    it, and floating-point warnings (`divide by zero encountered in log`) stay
    silent: the checks measure what such code computes, they do not print it.
    """
    state = np.random.get_state()
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    finally:
        np.random.set_state(state)


def reseeded(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f`, reseeding NumPy's global RNG before each call (use inside `quietly`)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        global_random.reseed(FORWARD_SEED)
        return f(*args, **kwargs)

    return call


# --------------------------------------------------------------------------- probabilities


def row_sums(p: np.ndarray) -> np.ndarray:
    """The sum of each row: over the last axis, one value per sample (and position)."""
    return np.sum(np.asarray(p, dtype=np.float64), axis=-1)


@dataclass(frozen=True)
class Normalisation:
    """How an array of probabilities of shape (N, ..., C) is normalised."""

    kind: str  # "rows" (each row sums to 1), "batch" (the whole array does), "columns" (over the batch axis)
    sums: np.ndarray  # the row sums
    error: float  # max |row sum - 1|


def normalisation(p: Any, tolerance: float = 1e-6) -> Normalisation | None:
    """How `p` is normalised, or None when it does not look like probabilities.

    Probabilities are finite, non-negative and sum to 1 per row, in total or per
    column. Rows within `tolerance` of 1 are "rows"; the others need a batch
    of at least two samples to tell apart.
    """
    if not is_float_array(p) or p.ndim < 2 or p.shape[0] < 2 or p.shape[-1] < 2:
        return None
    if not np.all(np.isfinite(p)) or np.min(p) < -tolerance:
        return None
    sums = row_sums(p)
    error = float(np.max(np.abs(sums - 1.0)))
    if error <= tolerance:
        return Normalisation("rows", sums, error)
    if abs(float(np.sum(p)) - 1.0) <= SUM_TOLERANCE:
        return Normalisation("batch", sums, error)
    if np.allclose(np.sum(p, axis=0), 1.0, rtol=0.0, atol=SUM_TOLERANCE):
        return Normalisation("columns", sums, error)
    return None


def softmax_over_batch(p: Any, tolerance: float = 1e-6) -> bool:
    """Probabilities a softmax normalised over the whole batch: every entry positive (a softmax's
    are) and the batch, not each row, summing to 1. Not a `dscores` filled one row at a time,
    whose unfilled rows are zero."""
    if not (is_float_array(p) and np.all(p > 0)):
        return False
    found = normalisation(p, tolerance)
    return found is not None and found.kind == "batch"


# --------------------------------------------------------------------------- batch coupling


@dataclass(frozen=True)
class Coupling:
    """The largest effect of one sample on another."""

    measured: float  # largest change in another sample's rows, relative to the largest value
    source: int | None = None  # the sample that was perturbed (j)
    affected: int | None = None  # the sample whose rows changed most (i != j)


def _samples(n: int) -> list[int]:
    return list(range(n)) if n <= ALL_SAMPLES_UP_TO else [0, n // 2, n - 1]


def _rows_max(a: np.ndarray) -> np.ndarray:
    return np.max(np.abs(a).reshape(a.shape[0], -1), axis=1)


def output_coupling(
    f: Callable[[np.ndarray], Any], x: np.ndarray, rng: np.random.Generator, *, step: float | None = None
) -> Coupling | None:
    """Perturb one sample of `x` at a time and measure how much the other samples' outputs move.

    `f` maps a batch to an array with the batch on axis 0. The perturbation is
    positive on average, so a sum or mean over the batch cannot cancel it, and
    its size is `step` (default: the spread of `x`). None when the output has no
    batch axis or is not finite.
    """
    x = np.array(x, dtype=np.float64)
    n = x.shape[0] if x.ndim else 0
    if n < 2:
        return None
    base = np.asarray(f(x.copy()), dtype=np.float64)
    if base.ndim == 0 or base.shape[0] != n or not np.all(np.isfinite(base)):
        return None
    scale = max(float(np.max(np.abs(base))), _TINY)
    step = step or float(np.std(x)) or 1.0
    worst = Coupling(0.0)
    for j in _samples(n):
        moved = x.copy()
        moved[j] += step * rng.uniform(0.5, 1.5, size=x.shape[1:])
        out = np.asarray(f(moved), dtype=np.float64)
        if out.shape != base.shape:
            return None
        change = _rows_max(out - base)
        change[j] = 0.0
        i = int(np.argmax(change))
        if change[i] / scale > worst.measured:
            worst = Coupling(float(change[i] / scale), j, i)
    return worst


def gradient_coupling(
    backward: Callable[[np.ndarray, np.ndarray], Any], x: np.ndarray, out_shape: Sequence[int], rng: np.random.Generator
) -> Coupling | None:
    """Send an upstream gradient that is non-zero on one sample only; measure dx on the others.

    `backward(x, dout)` runs forward on `x` and returns dx for `dout`. Here
    `source` is the sample that had the gradient and `affected` the one whose
    dx row should have stayed zero; `measured` is relative to the largest |dx|.
    """
    x = np.array(x, dtype=np.float64)
    n = x.shape[0] if x.ndim else 0
    if n < 2 or len(out_shape) == 0 or out_shape[0] != n:
        return None
    worst = Coupling(0.0)
    for i in _samples(n):
        dout = np.zeros(tuple(out_shape))
        dout[i] = rng.standard_normal(tuple(out_shape[1:]))
        dx = backward(x.copy(), dout)
        if not isinstance(dx, np.ndarray) or dx.shape != x.shape or not np.all(np.isfinite(dx)):
            return None
        rows = _rows_max(np.asarray(dx, dtype=np.float64))
        scale = max(float(np.max(rows)), _TINY)
        rows[i] = 0.0
        j = int(np.argmax(rows))
        if rows[j] / scale > worst.measured:
            worst = Coupling(float(rows[j] / scale), i, j)
    return worst


# --------------------------------------------------------------------------- tiling and scale


def tile_batch(a: Any, times: int = 2) -> Any:
    """`a` repeated `times` times along the batch axis (labels and one-hot targets alike)."""
    return np.concatenate([np.asarray(a)] * times, axis=0)


def reduction(ratio: float, times: int = 2, rtol: float = 1e-6) -> str | None:
    """The reduction a tiled batch reveals: "mean" when the value stayed (ratio 1), "sum" when it grew `times`-fold."""
    if np.isclose(ratio, 1.0, rtol=rtol, atol=0.0):
        return "mean"
    if np.isclose(ratio, float(times), rtol=rtol, atol=0.0):
        return "sum"
    return None


def scale_factor(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> float | None:
    """The s with a = s * b, when `a` is a multiple of `b` (least squares), else None."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return None
    norm = float(np.dot(b, b))
    if norm == 0.0 or not np.isfinite(norm):
        return None
    s = float(np.dot(a, b) / norm)
    residual = float(np.linalg.norm(a - s * b))
    return s if residual <= rtol * max(float(np.linalg.norm(a)), _TINY) else None


# --------------------------------------------------------------------------- inputs


@dataclass
class Case:
    """One layer and the input that reaches it.

    `obj` belongs to a working copy made for this case: copy it again (with
    `conventions.isolated`) before calling it, so one probe cannot disturb the next.
    """

    owner: str | None  # the network's class name, None for a standalone layer
    key: str  # its key in the network (`Affine1`, `lastLayer`), or its class name
    obj: Any
    x: np.ndarray
    t: Any
    is_loss: bool


def network_cases(built: Any, *, train: bool = True) -> list[Case]:
    """Every layer of a built network (`build.Built`) with the activation that reaches it.

    Activations come from running the layers in order on a copy of the network,
    the loss layer last with the case's target. Stops at the first layer that
    raises; a network the adapters do not understand gives no cases.
    """
    cases: list[Case] = []
    for _label, x, t in built.cases:
        try:
            with quietly(), isolated(built.obj) as (work, _):
                network = Network(work, train=train)
                for key, layer, activation, target, is_loss in network.layer_inputs(x, t):
                    cases.append(Case(network.name, key, layer, activation, target, is_loss))
        except Exception:  # the user's code raised: the gradient engine reports it
            continue
    return cases


def standalone_cases(built: Any) -> Iterator[Case]:
    """The cases of a standalone layer (`build.Built`) as built for it."""
    loss = is_loss_layer(built.obj)
    from backprop_doctor.build import UNBATCHED

    for label, x, t in built.cases:
        if is_float_array(np.asarray(x)) and not str(label).startswith(UNBATCHED):
            yield Case(None, built.name, built.obj, np.array(x, dtype=np.float64), t, loss)


def layer_cases(context: Any) -> Iterator[Case]:
    """Every layer the context holds, standalone ones first, then each network's."""
    for built in context.layers:
        yield from standalone_cases(built)
    for built in context.networks:
        yield from network_cases(built, train=context.options.train)


# --------------------------------------------------------------------------- moved names
# Where a reduction or a function sits in the source is a static fact now (`static.reductions`,
# `static.definitions`, `static.files`), and which lines ran is `locate.executed`. The names stay
# importable from here for code written against the old layout.

from backprop_doctor.locate import definition, executed  # noqa: E402
from backprop_doctor.static.definitions import Function, enclosing, functions  # noqa: E402
from backprop_doctor.static.files import source_tree  # noqa: E402
from backprop_doctor.static.reductions import REDUCERS, Reduction, reductions, with_axis  # noqa: E402
from backprop_doctor.static.text import char_column  # noqa: E402

__all__ = [
    "ALL_SAMPLES_UP_TO", "SUM_TOLERANCE", "Case", "Coupling", "Normalisation", "gradient_coupling",
    "layer_cases", "network_cases", "normalisation", "output_coupling", "quietly", "reduction",
    "reseeded", "row_sums", "scale_factor", "standalone_cases", "tile_batch",
    # moved, kept importable
    "REDUCERS", "Function", "Reduction", "char_column", "definition", "enclosing", "executed",
    "functions", "reductions", "source_tree", "with_axis",
]  # fmt: skip
