"""One training run: plain SGD on a float64 copy of the network, the loss at every step, ReLU activity,
and the shape of the curve."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import math
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import isolated
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.conventions.networks import Network
from backprop_doctor.observe.budget import Deadline, share
from backprop_doctor.training.data import Data
from backprop_doctor.training.layers import _ProbeError, _layer_arrays, _owner, is_relu
from backprop_doctor.training.settings import (
    CLEAR_FALL,
    DIVERGE_RATIO,
    EVAL_SAMPLES,
    FITTED_RATIO,
    MIN_RUN_SECONDS,
    MIN_STEPS,
    REPORT_SECONDS,
    RISE_RATIO,
    RUN_SECONDS,
    RUN_SHARE,
    STAGNANT_DROP,
)

# A run asked to stop once fitted (the tiny batch) stops after at least this many steps, when
# the mean of its last tenth is below half of what counts as fitted (`FITTED_RATIO`).
MIN_FIT_STEPS = 100
# A run asked to stop once it falls clearly (a reference that only has to show it learns)
# stops after at least this many steps, when its curve falls below CLEAR_FALL of the first loss.
MIN_FALL_STEPS = 50
from backprop_doctor.training.swaps import Swap, apply_swaps


@dataclass(frozen=True)
class NonFinite:
    """Where NaN or infinity first appeared."""

    step: int
    what: str  # "loss", "gradient" or "parameter"
    value: float | None = None  # the loss, when it was the loss
    layer: str | None = None  # the first layer whose output is not finite
    params: tuple[str, ...] = ()  # the gradients or parameters that are not finite
    layer_cls: type | None = None  # that layer's class, to point at its code


@dataclass(frozen=True)
class ReluActivity:
    """How many units of one ReLU layer fire at least once on a batch."""

    layer: str  # the key in the network's layers, e.g. "Relu1"
    cls: type
    units: int
    dead: int  # never positive on any sample of the batch
    pre_mean: float  # mean and spread of the layer's input (pre-activation)
    pre_std: float
    weight: str | None = None  # the network parameters of the layer that feeds it
    bias: str | None = None
    bias_mean: float | None = None

    @property
    def fraction(self) -> float:
        return self.dead / self.units if self.units else 0.0


@dataclass
class Run:
    """One training run: the loss before each step's update, and what went wrong."""

    label: str
    lr: float
    batch: int
    steps: int  # steps asked for
    losses: list[float] = field(default_factory=list)
    error: str | None = None  # what the user's code raised, ending the run
    error_step: int | None = None
    non_finite: NonFinite | None = None
    ratios: dict[str, float] = field(default_factory=dict)  # median ||lr g|| / ||p|| per weight
    skipped: list[str] = field(default_factory=list)  # parameters whose gradient is missing or mis-shaped
    relu_start: list[ReluActivity] = field(default_factory=list)
    relu_end: list[ReluActivity] = field(default_factory=list)
    truncated: bool = False  # stopped by the time budget
    seconds: float = 0.0

    @property
    def shape(self) -> Shape:
        """The curve's shape; "unfinished" for a run stopped by the clock before `MIN_STEPS` steps,
        whose few steps say nothing of where the loss is going (a machine this busy or slower gives
        another curve), unless the loss went to NaN or inf in them."""
        shape = curve_shape(self.losses)
        if self.truncated and len(self.losses) < MIN_STEPS and shape.trend != "non-finite":
            return dataclasses.replace(shape, trend="unfinished")
        return shape

    @property
    def trend(self) -> str:
        return self.shape.trend

    @property
    def ran(self) -> bool:
        return len(self.losses) >= 2 or self.non_finite is not None


def _scalar(value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise _ProbeError(f"the loss is an array of shape {array.shape}, not a number")
    return float(array.reshape(()))


def _norm(a: Any) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel()))


def _finite(a: Any) -> bool:
    """No NaN or infinity in `a` (a NaN or inf anywhere makes the sum one; cheaper than isfinite().all())."""
    return math.isfinite(float(a.sum() if isinstance(a, np.ndarray) else np.sum(a)))


def _fitted_so_far(losses: list[float]) -> bool:
    k = max(1, len(losses) // 10)
    tail = math.fsum(losses[-k:]) / k
    return math.isfinite(tail) and tail <= 0.5 * FITTED_RATIO * abs(losses[0])


def _falls_clearly_so_far(losses: list[float]) -> bool:
    shape = curve_shape(losses)
    return shape.trend == "falls" and shape.tail <= CLEAR_FALL * abs(shape.first)


def _sgd_step(params: dict[str, np.ndarray], grads: Any, lr: float, buffers: dict[str, np.ndarray]) -> list[str]:
    """`reference.sgd_update` (the same arithmetic, `p -= lr * g`) into buffers kept across steps."""
    skipped = []
    for k, p in params.items():
        try:
            g = grads[k]
        except (KeyError, IndexError, TypeError):
            g = None
        if g is None or np.shape(g) != p.shape:
            skipped.append(k)
            continue
        buffer = buffers.get(k)
        if buffer is None or buffer.shape != p.shape or buffer.dtype != p.dtype:
            buffer = buffers[k] = np.empty_like(p)
        np.multiply(np.asarray(g, dtype=p.dtype), lr, out=buffer)
        np.subtract(p, buffer, out=p)
    return skipped


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No prints, warnings or floating-point chatter from the user's code while it trains."""
    sink = io.StringIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield


def train(
    obj: Any,
    data: Data,
    *,
    lr: float,
    batch: int,
    steps: int,
    seed: int,
    label: str = "yours",
    swaps: Sequence[Swap] = (),
    watch_relu: bool = False,
    budget: float = RUN_SECONDS,
    stop_when_fitted: bool = False,
    stop_when_falls: bool = False,
    no_decay: bool = False,
) -> Run:
    """Train a float64 copy of the network `obj` with in-place SGD; never raises.

    With `no_decay` the copy's weight decay (`weight_decay_lambda`, `reg`, ... set on the
    network) is turned off: a tiny batch is fitted when its data loss is, whatever the penalty.

    With `stop_when_fitted` the run ends once its loss is well below `FITTED_RATIO` of the
    first (see `MIN_FIT_STEPS`): for a run whose only question is whether it fits. With
    `stop_when_falls` it ends once the curve falls clearly (`MIN_FALL_STEPS`)."""
    run = Run(label=label, lr=lr, batch=batch, steps=steps)
    budget = share(budget, RUN_SHARE, reserve=REPORT_SECONDS, least=MIN_RUN_SECONDS)
    started = time.perf_counter()
    state = np.random.get_state()
    try:
        with _quiet(), isolated(obj) as (work, _dtypes):
            if no_decay:
                _without_decay(work)
            _train(
                work, data, run, seed=seed, swaps=swaps, watch_relu=watch_relu, deadline=Deadline(budget),
                stop_when_fitted=stop_when_fitted,
                stop_when_falls=stop_when_falls,
            )
    except Exception as error:  # deep copy or restore of the user's object failed
        run.error = run.error or f"{type(error).__name__}: {error}"
    finally:
        np.random.set_state(state)
        run.seconds = time.perf_counter() - started
    return run


DECAY = re.compile(r"(?i)weight_?decay(_?lambda)?|reg|lambd|lambda_?|l2(_?reg\w*)?|wd|decay")


def decay_strengths(values: dict[str, Any]) -> dict[str, float]:
    """The weight-decay strengths among `values` by name (`weight_decay = 5.0`, `reg`, `lambd`): positive numbers."""
    return {k: float(v) for k, v in values.items() if DECAY.fullmatch(k) and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0}


def _without_decay(work: Any) -> None:
    """Set the network copy's own weight-decay strength to 0 (its attributes only, never a layer's)."""
    held = getattr(work, "__dict__", {})
    for name in decay_strengths(dict(held)):
        setattr(work, name, type(held[name])(0))


def _train(
    work: Any,
    data: Data,
    run: Run,
    *,
    seed: int,
    swaps: Sequence[Swap],
    watch_relu: bool,
    deadline: Deadline,
    stop_when_fitted: bool = False,
    stop_when_falls: bool = False,
) -> None:
    try:
        network = Network(work, train=True)
        if swaps:
            apply_swaps(network, swaps)
    except Exception as error:
        run.error = f"{type(error).__name__}: {error}"
        return
    rng = np.random.default_rng(seed)
    np.random.seed(seed % 2**32)
    n = len(data.x)
    batch = min(run.batch, n)
    x_eval, t_eval = data.x[:EVAL_SAMPLES], data.t[:EVAL_SAMPLES]
    ratios: dict[str, list[float]] = {}
    buffers: dict[str, np.ndarray] = {}
    step = 0
    try:
        if watch_relu:
            run.relu_start = relu_activity(network, x_eval, t_eval)
        seen = _LossTap(network)
        for step in range(run.steps):
            idx = np.arange(n) if batch >= n else rng.choice(n, batch, replace=False)
            seen.values.clear()
            grads = network.gradient(data.x[idx], data.t[idx])  # indexing copies: the step's own arrays
            # the loss that `gradient` computed on its way (else one more forward pass)
            loss = _scalar(seen.values[0] if len(seen.values) == 1 else network.loss(data.x[idx], data.t[idx]))
            run.losses.append(loss)
            if not math.isfinite(loss):
                key, cls = first_non_finite_layer(network, data.x[idx], data.t[idx]) or (None, None)
                run.non_finite = NonFinite(step, "loss", loss, layer=key, layer_cls=cls)
                return
            params = network.params()
            bad = [k for k, g in grads.items() if k in params and np.shape(g) == params[k].shape and not _finite(g)]
            if bad:
                run.non_finite = NonFinite(step, "gradient", params=tuple(bad))
                return
            if step < 10 or step % 10 == 0:  # a sample of the steps is enough for a median
                for k, p in params.items():
                    g = grads.get(k)
                    if p.ndim >= 2 and g is not None and np.shape(g) == p.shape:
                        size = _norm(p)
                        if size > 0:
                            ratios.setdefault(k, []).append(run.lr * _norm(g) / size)
            skipped = _sgd_step(params, grads, run.lr, buffers)
            for k in skipped:
                if str(k) not in run.skipped:
                    run.skipped.append(str(k))
            bad = [k for k, p in params.items() if not _finite(p)]
            if bad:
                run.non_finite = NonFinite(step, "parameter", params=tuple(bad))
                return
            if stop_when_fitted and step + 1 >= MIN_FIT_STEPS and _fitted_so_far(run.losses):
                break
            if stop_when_falls and step + 1 >= MIN_FALL_STEPS and (step + 1) % 10 == 0 and _falls_clearly_so_far(run.losses):
                break
            if deadline.passed():  # CPU seconds, or wall-clock ones a third as much: a busy machine cuts no run short
                run.truncated = True
                break
        if watch_relu:
            run.relu_end = relu_activity(network, x_eval, t_eval)
    except Exception as error:  # the user's code
        run.error = f"{type(error).__name__}: {error}"
        run.error_step = step
    finally:
        run.ratios = {k: float(np.median(v)) for k, v in ratios.items() if v}


class _LossTap:
    """Records the losses the network's `loss` (or DLFS-2 `forward`) returns, also when `gradient` calls it."""

    def __init__(self, network: Network):
        self.values: list[Any] = []
        net = network.net
        name = "loss" if network.style != "list" or not callable(getattr(net, "forward", None)) else "forward"
        bound = getattr(net, name, None)
        if not callable(bound) or name in vars(net):
            return

        @functools.wraps(bound)
        def tapped(*args: Any, **kwargs: Any) -> Any:
            value = bound(*args, **kwargs)
            self.values.append(value)
            return value

        try:
            setattr(net, name, tapped)
        except Exception:
            pass


def first_non_finite_layer(network: Network, x: np.ndarray, t: Any) -> tuple[str, type] | None:
    """The key and class of the first layer whose output holds NaN or infinity (following `layers()` in order)."""
    try:
        activation: Any = x.copy()
        for key, layer in network.predict_layers():
            activation = ClassLayer(layer).forward(activation)
            if not np.all(np.isfinite(np.asarray(activation, dtype=np.float64))):
                return key, type(layer)
        last = network.last_layer()
        if last is not None:
            out = ClassLayer(last[1]).forward(activation, t)
            if not np.all(np.isfinite(np.asarray(out, dtype=np.float64))):
                return last[0], type(last[1])
    except Exception:
        return None
    return None


def relu_activity(network: Network, x: np.ndarray, t: np.ndarray) -> list[ReluActivity]:
    """Per ReLU-like layer, the units that never fire on the batch, recorded during `loss(x, t)`."""
    layers = network.layers()
    targets = [(i, key, layer) for i, (key, layer) in enumerate(layers) if is_relu(layer)]
    if not targets:
        return []
    records: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    patched = []
    for _, key, layer in targets:
        own = vars(layer).get("forward")
        bound = layer.forward

        @functools.wraps(bound)
        def recording(*args: Any, _bound: Any = bound, _key: str = key, **kwargs: Any) -> Any:
            out = _bound(*args, **kwargs)
            if args:
                records[_key] = (np.asarray(args[0], dtype=np.float64), np.asarray(out, dtype=np.float64))
            return out

        try:
            layer.forward = recording
            patched.append((layer, own))
        except Exception:
            continue
    try:
        network.loss(x.copy(), t.copy())
    except Exception:
        return []
    finally:
        for layer, own in patched:
            if own is None:
                vars(layer).pop("forward", None)
            else:
                layer.forward = own
    params = network.params()
    found = []
    for i, key, layer in targets:
        if key not in records:
            continue
        pre, out = records[key]
        if out.ndim < 2:
            continue
        axes = (0, *range(2, out.ndim)) if out.ndim == 4 else (0,)  # per channel for images
        active = np.any(out > 0, axis=axes)
        weight = bias = None
        bias_mean = None
        if i > 0:
            for _, array in _layer_arrays(layers[i - 1][1]):
                owner = _owner(array, params)
                if owner is None:
                    continue
                if array.ndim == 1 and bias is None:
                    bias, bias_mean = owner, float(np.mean(array))
                elif array.ndim >= 2 and weight is None:
                    weight = owner
        found.append(
            ReluActivity(
                layer=key,
                cls=type(layer),
                units=int(active.size),
                dead=int(np.sum(~active)),
                pre_mean=float(np.mean(pre)) if pre.size else 0.0,
                pre_std=float(np.std(pre)) if pre.size else 0.0,
                weight=weight,
                bias=bias,
                bias_mean=bias_mean,
            )
        )
    return found


@dataclass(frozen=True)
class Shape:
    trend: str  # "falls", "rises", "diverges", "stagnant", "non-finite", "empty"; a run's also "unfinished"
    first: float
    last: float
    tail: float  # mean of the last tenth (of the finite part)
    peak: float  # largest finite loss
    before: str = ""  # for a non-finite curve: the trend of its finite part

    @property
    def change(self) -> float:
        """tail / first (1.0 when the first loss is 0)."""
        return self.tail / self.first if self.first > 0 else 1.0


def curve_shape(losses: Sequence[float]) -> Shape:
    """Whether a loss curve falls, rises, diverges or stays flat: its first value against its last tenth."""
    if len(losses) < 2:
        value = losses[0] if losses else math.nan
        return Shape("non-finite" if losses and not math.isfinite(value) else "empty", value, value, value, value)
    values = np.asarray(losses, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        prefix = curve_shape(values[: bad[0]].tolist()) if bad[0] >= 2 else None
        first, last = float(values[0]), float(values[-1])
        if prefix is None:
            return Shape("non-finite", first, last, last, first if math.isfinite(first) else math.nan, "empty")
        return Shape("non-finite", first, last, prefix.tail, prefix.peak, prefix.trend)
    first, last = float(values[0]), float(values[-1])
    peak = float(values.max())
    k = max(1, len(values) // 10)
    tail = float(values[-k:].mean())
    base = abs(first)
    if tail > first + (DIVERGE_RATIO - 1.0) * base and base > 0:
        trend = "diverges"
    elif tail > first + (RISE_RATIO - 1.0) * base:
        trend = "rises"
    elif first - tail < STAGNANT_DROP * base and base > 1e-3:
        trend = "stagnant"
    else:
        trend = "falls"
    return Shape(trend, first, last, tail, peak)
