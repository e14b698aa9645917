"""The training probe: train the user's own network for a few hundred SGD steps and watch the loss.

Pure numerics. `probe_for(context)` trains each network the pipeline built
(on a float64 deep copy) and returns data — loss curves, the first
non-finite step, ReLU activity, update/weight ratios — never findings; the
`training` checks (`checks/loss_rises.py`, ...) read it and decide.

One run is plain SGD, `params[k] -= lr * grads[k]` in place through the
network's own `gradient(x, t)`, on learnable data of the network's shapes:
class-dependent Gaussian clusters with one-hot targets, or the user's
`--data file.npz`. The learning rate and batch size are the script's own when
it spells them as literals.

Next to the user's curve the probe runs, when it helps:

* the same steps with a smaller rate (does the loss fall then?);
* the same steps with a reference implementation (`reference.py`) swapped in
  for the piece an earlier finding blames — per-row softmax, Relu, Sigmoid,
  Affine, or layers that share the parameter arrays — to confirm the cause;
* a tiny batch of 5 samples, to see whether it can be fitted at all.

Everything is memoised on `context.extras["_training_probe"]`; the curves the
report draws go to `context.extras["training"]`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import inspect
import io
import math
import os
import textwrap
import time
import warnings
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor import reference
from backprop_doctor.adapters import ClassLayer, Network, is_loss_layer, isolated

STEPS = 200  # SGD steps of one run
OVERFIT_STEPS = 500  # full-batch steps on the tiny batch (cheap: 5 samples)
OVERFIT_SAMPLES = 5
DEFAULT_LR = 0.1
DEFAULT_BATCH = 100
MAX_BATCH = 100  # a larger batch in the script is cut to this, for speed
TRAIN_SAMPLES = 1000  # size of the synthetic training set
EVAL_SAMPLES = 200  # samples on which ReLU activity is measured
SMALLER_RATES = (10.0, 100.0)  # the rate is divided by these, in turn, when the loss does not fall
RUN_SECONDS = 10.0  # a run stops early (and says so) past this: a guard against huge networks only
WORK = STEPS * DEFAULT_BATCH * 42_000  # samples x parameters per run: the seed's 784-50-10 net at batch 100
MIN_BATCH, MIN_STEPS = 20, 50  # a larger network trains on smaller batches, then for fewer steps
CLUSTER_NOISE = 0.5  # noise around each class centre, relative to the spread of the centres

# The shape of a curve: the first loss against the mean of the last tenth.
RISE_RATIO = 1.10  # ends more than 10% above where it began: rises
DIVERGE_RATIO = 4.0  # ends 4x above where it began: diverges
STAGNANT_DROP = 0.02  # falls by less than 2%: stagnant
CLEAR_FALL = 0.75  # a smaller rate "helps" when its loss ends below 75% of the start
FITTED_RATIO = 0.2  # the tiny batch is fitted when its loss ends below 20% of the start
RATIO_RANGE = (1e-4, 1e-1)  # healthy ||lr * g|| / ||W|| per step
DEAD_FRACTION = 0.5  # "most units" of a ReLU layer never active

LR_NAMES = ("learning_rate", "lr", "learningrate", "learning_rate_init", "eta", "step_size")
BATCH_NAMES = ("batch_size", "batchsize", "mini_batch_size", "minibatch_size", "batch")


# --------------------------------------------------------------------------- settings from the script


@dataclass(frozen=True)
class Setting:
    value: float
    line: int | None = None  # where the script spells it; None for our default


@dataclass(frozen=True)
class Settings:
    lr: Setting
    batch_size: Setting
    steps: int = STEPS
    update_line: int | None = None  # the script's `params[key] -= lr * grad[key]`, when found

    @property
    def batch(self) -> int:
        return max(1, min(int(self.batch_size.value), MAX_BATCH))


def _number(node: ast.AST | None) -> float | None:
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _own_hyperparameters(tree: ast.AST) -> dict[str, Setting]:
    """`learning_rate = 0.1`, `batch_size = 100`, `SGD(lr=1.0)`: the first literal of each name, by line."""
    found: dict[str, list[tuple[int, float]]] = {}
    for node in ast.walk(tree):
        pairs: list[tuple[str, ast.AST | None, int]] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    pairs.append((target.id, node.value, node.lineno))
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs += [
                        (t.id, v, node.lineno) for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name)
                    ]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            pairs.append((node.target.id, node.value, node.lineno))
        elif isinstance(node, ast.Call):
            pairs += [(k.arg, k.value, k.value.lineno) for k in node.keywords if k.arg]
        for name, value, line in pairs:
            number = _number(value)
            if number is not None:
                found.setdefault(name.lower(), []).append((line, number))
    settings = {}
    for name, values in found.items():
        line, value = min(values)
        settings[name] = Setting(value, line)
    return settings


def hyperparameters(tree: ast.AST | None) -> dict[str, Setting]:
    """Literal hyper-parameters of the script: by kind ("learning_rate", "batch_size") from
    `static.hyperparameters`, and by lower-case name from our own walk, which also reads
    keyword arguments such as `SGD(lr=1.0)`."""
    if tree is None:
        return {}
    result: dict[str, Setting] = {}
    try:
        from backprop_doctor import static

        facts = static.hyperparameters(tree)
        for fact in facts.values():
            value, kind = getattr(fact, "value", None), getattr(fact, "kind", None)
            if kind and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                result.setdefault(str(kind), Setting(float(value), getattr(fact, "line", None)))
    except Exception:  # static.py absent, older, or puzzled by this tree
        result = {}
    for name, setting in _own_hyperparameters(tree).items():
        result.setdefault(name, setting)
    return result


def update_line(tree: ast.AST | None, lr_names: Sequence[str] = LR_NAMES) -> int | None:
    """The line of an in-place update `p[k] -= lr * g[k]` (the first one that names a learning rate)."""
    if tree is None:
        return None
    try:
        from backprop_doctor import static

        updates = list(static.parameter_updates(tree))
        lines = sorted(int(u.line) for u in updates if isinstance(getattr(u, "line", None), int))
        if lines:
            return lines[0]
    except Exception:
        pass
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub):
            names = {n.id.lower() for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            names |= {n.attr.lower() for n in ast.walk(node.value) if isinstance(n, ast.Attribute)}
            if names & set(lr_names):
                lines.append(node.lineno)
    return min(lines) if lines else None


def script_settings(tree: ast.AST | None) -> Settings:
    found = hyperparameters(tree)
    lr = next((found[n] for n in LR_NAMES if n in found and found[n].value > 0), Setting(DEFAULT_LR))
    batch = next((found[n] for n in BATCH_NAMES if n in found and found[n].value >= 1), Setting(DEFAULT_BATCH))
    return Settings(lr=lr, batch_size=Setting(float(int(batch.value)), batch.line), update_line=update_line(tree))


# --------------------------------------------------------------------------- data


@dataclass
class Data:
    x: np.ndarray
    t: np.ndarray
    label: str  # "synthetic: 10 Gaussian clusters in 784-D", "your data (mnist.npz)"


def synthetic_data(x_shape: tuple[int, ...], classes: int, rng: np.random.Generator, n: int = TRAIN_SAMPLES) -> Data:
    """Class-dependent Gaussian clusters with one-hot targets.

    Each sample is its class centre plus noise. The features are scaled so that a
    sample's squared length is about min(D, 100): unit-variance features for small
    inputs, the length of a normalised MNIST digit for 784 pixels.
    """
    d = int(np.prod(x_shape)) if x_shape else 1
    scale = math.sqrt(min(d, 100) / d)
    centres = rng.standard_normal((classes, *x_shape))
    labels = rng.permutation(np.arange(n) % classes)
    x = scale * (centres[labels] + CLUSTER_NOISE * rng.standard_normal((n, *x_shape)))
    shape = "x".join(str(s) for s in x_shape)
    return Data(x, np.eye(classes)[labels], f"synthetic: {classes} Gaussian clusters in {shape}-D")


def user_data(path: str) -> Data:
    """x and t from an .npz file (also accepts x_train / t_train or y)."""
    with np.load(path, allow_pickle=False) as npz:
        keys = set(npz.files)
        x_key = next((k for k in ("x", "x_train", "X") if k in keys), None)
        t_key = next((k for k in ("t", "t_train", "y", "y_train", "T") if k in keys), None)
        if x_key is None or t_key is None:
            raise ValueError(f"it holds {sorted(keys)}, not x and t")
        x, t = np.asarray(npz[x_key], dtype=np.float64), np.asarray(npz[t_key])
    if len(x) != len(t) or len(x) == 0:
        raise ValueError(f"x has {len(x)} samples and t has {len(t)}")
    return Data(x, t, f"your data ({os.path.basename(path)}, {len(x)} samples)")


def data_for(case: tuple[str, np.ndarray, Any], data_path: str | None, rng: np.random.Generator) -> tuple[Data, str | None]:
    """The probe's data for a network built with the (label, x, t) case; and a note when --data failed."""
    _, x, t = case
    note = None
    if data_path:
        try:
            return user_data(data_path), None
        except Exception as error:  # a file the user gave us
            note = f"could not use --data {data_path} ({type(error).__name__}: {error}); used synthetic data"
    t = np.asarray(t)
    if t.ndim == 2:
        classes = t.shape[1]
    elif t.size and t.dtype.kind in "iu":
        classes = int(t.max()) + 1
    else:
        classes = 4
    return synthetic_data(tuple(np.shape(x)[1:]), max(classes, 2), rng), note


def _as_labels(t: np.ndarray) -> np.ndarray:
    return np.argmax(t, axis=1) if t.ndim == 2 else t


# --------------------------------------------------------------------------- one run


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
        return curve_shape(self.losses)

    @property
    def trend(self) -> str:
        return self.shape.trend

    @property
    def ran(self) -> bool:
        return len(self.losses) >= 2 or self.non_finite is not None


class _ProbeError(Exception):
    pass


def _scalar(value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise _ProbeError(f"the loss is an array of shape {array.shape}, not a number")
    return float(array.reshape(()))


def _norm(a: Any) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel()))


def _finite(a: Any) -> bool:
    """No NaN or infinity in `a` (a NaN or inf anywhere makes the sum one; cheaper than isfinite().all())."""
    return math.isfinite(float(np.sum(a)))


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
) -> Run:
    """Train a float64 copy of the network `obj` with in-place SGD; never raises."""
    run = Run(label=label, lr=lr, batch=batch, steps=steps)
    started = time.perf_counter()
    state = np.random.get_state()
    try:
        with _quiet(), isolated(obj) as (work, _dtypes):
            _train(work, data, run, seed=seed, swaps=swaps, watch_relu=watch_relu, budget=budget, started=started)
    except Exception as error:  # deep copy or restore of the user's object failed
        run.error = run.error or f"{type(error).__name__}: {error}"
    finally:
        np.random.set_state(state)
        run.seconds = time.perf_counter() - started
    return run


def _train(
    work: Any, data: Data, run: Run, *, seed: int, swaps: Sequence[Swap], watch_relu: bool, budget: float, started: float
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
    step = 0
    try:
        if watch_relu:
            run.relu_start = relu_activity(network, x_eval, t_eval)
        seen = _LossTap(network)
        for step in range(run.steps):
            idx = np.arange(n) if batch >= n else rng.choice(n, batch, replace=False)
            xb, tb = data.x[idx], data.t[idx]
            seen.values.clear()
            grads = network.gradient(xb.copy(), tb.copy())
            # the loss that `gradient` computed on its way (else one more forward pass)
            loss = _scalar(seen.values[0] if len(seen.values) == 1 else network.loss(xb.copy(), tb.copy()))
            run.losses.append(loss)
            if not math.isfinite(loss):
                key, cls = first_non_finite_layer(network, xb, tb) or (None, None)
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
            skipped = reference.sgd_update(params, grads, run.lr)
            for k in skipped:
                if str(k) not in run.skipped:
                    run.skipped.append(str(k))
            bad = [k for k, p in params.items() if not _finite(p)]
            if bad:
                run.non_finite = NonFinite(step, "parameter", params=tuple(bad))
                return
            if time.perf_counter() - started > budget:
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
        name = "loss" if network.style == "dict" or not callable(getattr(net, "forward", None)) else "forward"
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


# --------------------------------------------------------------------------- ReLU activity


def _kind(layer: Any) -> str | None:
    """"softmax", "relu", "sigmoid" or "affine" when the layer's class name says so."""
    name = type(layer).__name__.lower().replace("_", "")
    if is_loss_layer(layer):
        return "softmax" if any(w in name for w in ("softmax", "crossentropy", "logsoftmax")) else None
    if "relu" in name and not any(w in name for w in ("leaky", "prelu")):
        return "relu"
    if "sigmoid" in name or name == "logistic":
        return "sigmoid"
    if any(w in name for w in ("affine", "linear", "dense", "fullyconnected")) and "nonlinear" not in name:
        return "affine"
    return None


def is_relu(layer: Any) -> bool:
    return _kind(layer) == "relu"


def _owner(array: Any, params: dict[str, np.ndarray], used: Collection[str] = ()) -> str | None:
    """The network parameter that is `array`, else one equal to it not yet `used`."""
    if not isinstance(array, np.ndarray):
        return None
    for k, p in params.items():
        if p is array:
            return k
    for k, p in params.items():
        if k not in used and p.shape == array.shape and np.array_equal(p, array):
            return k
    return None


def _layer_arrays(layer: Any) -> list[tuple[str, np.ndarray]]:
    """(name, array) of a layer's float arrays: attributes, and a DLFS-2 `params` list."""
    found = [(k, v) for k, v in vars(layer).items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    plist = getattr(layer, "params", None)
    if isinstance(plist, list):
        found += [(f"params[{i}]", p) for i, p in enumerate(plist) if isinstance(p, np.ndarray)]
    return found


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


# --------------------------------------------------------------------------- the shape of a curve


@dataclass(frozen=True)
class Shape:
    trend: str  # "falls", "rises", "diverges", "stagnant", "non-finite", "empty"
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


# --------------------------------------------------------------------------- reference swaps


@dataclass(frozen=True)
class Swap:
    """Replace one piece of the network by its reference, because of a finding."""

    kind: str  # "softmax", "relu", "sigmoid", "affine" or "share"
    layer: str | None  # the key of the layer in the network, None for "share"
    label: str  # how the reference curve is called: "per-row softmax"
    because: str  # the finding's name


LABELS = {
    "softmax": "reference SoftmaxWithLoss",
    "relu": "reference Relu",
    "sigmoid": "reference Sigmoid",
    "affine": "reference Affine",
    "share": "layers sharing params",
}
# What to change when the reference curve confirms the cause (a snippet for a finding's `fix`).
SWAP_FIXES = {
    "softmax": "x = x - np.max(x, axis=-1, keepdims=True)\n"
    "return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)   # one distribution per row",
    "share": "self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])   # the arrays themselves, no .copy()",
}
SWAP_FINDINGS = ("softmax-not-per-row", "gradient-mismatch", "gradient-shape-mismatch", "unshared-parameter")


def _layer_named(network: Network, name: str | None) -> tuple[str, Any] | None:
    """The network layer a finding's `layer` names: by key, or by class name when that is unique."""
    if not name:
        return None
    layers = network.layers()
    for key, layer in layers:
        if key == name:
            return key, layer
    same = [(k, v) for k, v in layers if type(v).__name__ == name]
    return same[0] if len(same) == 1 else None


def plan_swaps(network: Network, findings: Sequence[Any]) -> tuple[list[Swap], list[str]]:
    """The reference swaps that earlier findings call for, and notes on those that cannot be made."""
    swaps: list[Swap] = []
    notes: list[str] = []

    def add(swap: Swap) -> None:
        if all((s.kind, s.layer) != (swap.kind, swap.layer) for s in swaps):
            swaps.append(swap)

    last = network.last_layer()
    # the batch-axis finding names the cause precisely: let it label the softmax swap
    ordered = sorted(findings, key=lambda f: getattr(f, "name", None) != "softmax-not-per-row")
    for f in ordered:
        name = getattr(f, "name", None)
        if name not in SWAP_FINDINGS:
            continue
        if name == "unshared-parameter":
            add(Swap("share", None, LABELS["share"], name))
            continue
        if name == "softmax-not-per-row":
            if last is not None and _kind(last[1]) == "softmax":
                add(Swap("softmax", last[0], "per-row softmax", name))
            else:
                notes.append(
                    f"softmax-not-per-row was found, but `{network.name}` has no softmax-with-loss layer "
                    "that a per-row reference could replace"
                )
            continue
        found = _layer_named(network, getattr(f, "layer", None))
        if found is None:
            continue  # about the whole network, or a layer this network does not use
        key, layer = found
        kind = _kind(layer)
        if kind is None or (kind == "affine" and _affine_arrays(layer) is None):
            notes.append(f"{name} in `{key}` ({type(layer).__name__}): no reference implementation of this layer")
            continue
        add(Swap(kind, key, LABELS[kind] if kind != "softmax" else "reference softmax-with-loss", name))
    return swaps, notes


def _affine_arrays(layer: Any) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None] | None:
    """(W, b, DLFS-2 grads list or None) of an affine layer."""
    plist, glist = getattr(layer, "params", None), getattr(layer, "grads", None)
    if not (isinstance(plist, list) and len(plist) == 2 and all(isinstance(p, np.ndarray) for p in plist)):
        plist = None
    grads = glist if plist and isinstance(glist, list) and len(glist) == 2 else None
    W, b = getattr(layer, "W", None), getattr(layer, "b", None)
    if isinstance(W, np.ndarray) and isinstance(b, np.ndarray):
        return W, b, grads
    if plist:
        return plist[0], plist[1], grads
    return None


def _replace_layer(net: Any, old: Any, new: Any) -> int:
    """Put `new` wherever the network holds `old`: its layers dict or list, and its attributes."""
    count = 0
    for attr, value in list(vars(net).items()):
        if value is old:
            setattr(net, attr, new)
            count += 1
        elif isinstance(value, dict):
            for k, v in list(value.items()):
                if v is old:
                    value[k] = new
                    count += 1
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if v is old:
                    value[i] = new
                    count += 1
    return count


def share_parameters(network: Network) -> int:
    """Make every layer hold the network's own parameter arrays where it holds equal copies; returns how many."""
    params = network.params()
    net_grads = getattr(network.net, "grads", None)
    names = list(params)
    used: set[str] = set()
    count = 0
    for _, layer in network.layers():
        for attr, array in _layer_arrays(layer):
            if _is_gradient_name(attr, layer):
                continue
            owner = _owner(array, params, used)
            if owner is None:
                continue
            used.add(owner)
            if params[owner] is array:
                continue
            if attr.startswith("params["):
                i = int(attr[7:-1])
                layer.params[i] = params[owner]
                grads = getattr(layer, "grads", None)
                j = names.index(owner)
                if isinstance(grads, list) and isinstance(net_grads, list) and i < len(grads) and j < len(net_grads):
                    grads[i] = net_grads[j]
            else:
                setattr(layer, attr, params[owner])
            count += 1
    return count


def _is_gradient_name(attr: str, layer: Any) -> bool:
    """`dW`, `grad_W`, `W_grad`: a gradient slot, which must never be bound to a parameter."""
    low = attr.lower()
    return "grad" in low or (attr.startswith("d") and attr[1:] in vars(layer))


def apply_swaps(network: Network, swaps: Sequence[Swap]) -> None:
    """Swap the reference pieces into the (working copy of the) network."""
    if any(s.kind == "share" for s in swaps):
        share_parameters(network)
    layers = dict(network.layers())
    params = network.params()
    for swap in swaps:
        if swap.kind == "share" or swap.layer not in layers:
            continue
        old = layers[swap.layer]
        if swap.kind == "softmax":
            new: Any = reference.SoftmaxWithLoss()
        elif swap.kind == "relu":
            new = reference.Relu()
        elif swap.kind == "sigmoid":
            new = reference.Sigmoid()
        else:
            arrays = _affine_arrays(old)
            if arrays is None:
                raise _ProbeError(f"`{swap.layer}` holds no W and b")
            W, b, grads = arrays
            own_w, own_b = _owner(W, params), _owner(b, params)
            new = reference.Affine(params[own_w] if own_w else W, params[own_b] if own_b else b, grads)
        if not _replace_layer(network.net, old, new):
            raise _ProbeError(f"could not put the reference in place of `{swap.layer}`")


# --------------------------------------------------------------------------- the probe


@dataclass
class Probe:
    """Everything the training checks need to know about one network."""

    network: str
    how: str  # how it was built
    line: int | None  # the constructor call in the script
    target: type  # the network's class
    settings: Settings
    data_label: str
    yours: Run
    smaller: list[Run] = field(default_factory=list)  # same steps, smaller rates, in the order tried
    reference: Run | None = None
    reference_label: str | None = None
    reference_note: str | None = None  # why no reference applies, or why it could not run
    swaps: list[Swap] = field(default_factory=list)
    overfit: Run | None = None
    overfit_reference: Run | None = None  # the tiny batch with the reference swapped in, when yours is not fitted
    note: str | None = None  # e.g. --data could not be read
    seconds: float = 0.0

    @property
    def lr(self) -> float:
        return self.settings.lr.value

    @property
    def falls_with_smaller_rate(self) -> Run | None:
        """The first smaller-rate run whose loss clearly falls."""
        return next((r for r in self.smaller if falls_clearly(r)), None)

    @property
    def reference_falls(self) -> bool:
        return self.reference is not None and self.reference.trend == "falls"

    def extras(self) -> dict[str, Any]:
        """The JSON-ready curves that the report draws."""
        ref, label = self.reference, self.reference_label
        if ref is None or not ref.losses:  # no reference: the smaller rate that worked, if one did
            ref = self.falls_with_smaller_rate
            label = ref.label if ref is not None else None
        return {
            "yours": [float(v) for v in self.yours.losses],
            "reference": [float(v) for v in ref.losses] if ref else None,
            "reference_label": label if ref else None,
            "steps": len(self.yours.losses),
            "lr": float(self.lr),
            "batch_size": int(self.yours.batch),
            "network": self.network,
            "data": self.data_label,
        }


def probe_network(
    built: Any, settings: Settings, *, seed: int = 0, data_path: str | None = None, findings: Sequence[Any] = ()
) -> Probe | None:
    """Train one built network (a `build.Built`) and the comparisons that explain its curve."""
    if not getattr(built, "cases", None):
        return None
    started = time.perf_counter()
    state = np.random.get_state()
    try:
        # (BLAS threads: the child process runs with one, see loading/child.py)
        probe = _probe_network(built, settings, seed, data_path, findings)
        probe.seconds = time.perf_counter() - started
        return probe
    finally:
        np.random.set_state(state)


def _probe_network(built: Any, settings: Settings, seed: int, data_path: str | None, findings: Sequence[Any]) -> Probe:
    data, note = data_for(built.cases[0], data_path, np.random.default_rng(seed))
    data = _labels_the_loss_takes(built.obj, data, seed)
    lr = settings.lr.value
    batch, steps = run_size(settings.batch, settings.steps, _parameter_count(built.obj))
    settings = dataclasses.replace(settings, steps=steps)
    same = functools.partial(train, built.obj, data, batch=batch, steps=steps, seed=seed)
    tiny = Data(data.x[:OVERFIT_SAMPLES], data.t[:OVERFIT_SAMPLES], f"{OVERFIT_SAMPLES} samples")
    on_tiny = functools.partial(train, built.obj, tiny, lr=lr, batch=OVERFIT_SAMPLES, steps=OVERFIT_STEPS, seed=seed)

    probe = Probe(
        network=built.name,
        how=built.how,
        line=getattr(built, "line", None),
        target=type(built.obj),
        settings=settings,
        data_label=data.label,
        yours=same(lr=lr, watch_relu=True),
        note=note,
    )
    try:
        with _quiet():
            swaps, notes = plan_swaps(Network(copy_for_planning(built.obj)), findings)
    except Exception:  # the user's object would not even copy: no reference then
        swaps, notes = [], []
    probe.swaps = swaps
    if swaps:
        probe.reference_label = " + ".join(dict.fromkeys(s.label for s in swaps))
        probe.reference = same(lr=lr, label=probe.reference_label, swaps=swaps, watch_relu=True)
        if probe.reference.error and not probe.reference.ran:
            notes.insert(0, f"the reference could not be swapped in: {probe.reference.error}")
    elif not notes:
        notes = ["no earlier finding points at a standard layer, so there is no reference to compare with"]
    probe.reference_note = "; ".join(notes) or None
    if _worth_a_smaller_rate(probe.yours) and not probe.reference_falls:
        for divisor in SMALLER_RATES:
            probe.smaller.append(same(lr=lr / divisor, label=f"lr {lr / divisor:g}"))
            if falls_clearly(probe.smaller[-1]):
                break
    probe.overfit = on_tiny(label="tiny batch")
    if swaps and not fitted(probe.overfit):
        probe.overfit_reference = on_tiny(label=probe.reference_label or "reference", swaps=swaps)
    return probe


def _worth_a_smaller_rate(run: Run) -> bool:
    """A smaller rate can only help a curve that goes up (or to NaN after some steps)."""
    shape = run.shape
    if shape.trend in ("rises", "diverges"):
        return True
    return shape.trend == "non-finite" and run.non_finite is not None and run.non_finite.step > 0


def falls_clearly(run: Run) -> bool:
    shape = run.shape
    return shape.trend == "falls" and shape.tail <= CLEAR_FALL * abs(shape.first)


def fitted(run: Run | None) -> bool:
    """Whether a run drove its loss below FITTED_RATIO of where it started."""
    if run is None or len(run.losses) < 2:
        return False
    shape = run.shape
    return shape.trend != "non-finite" and shape.tail <= FITTED_RATIO * abs(shape.first)


def _parameter_count(obj: Any) -> int:
    try:
        return sum(int(p.size) for p in Network(obj).params().values())
    except Exception:
        return 0


def run_size(batch: int, steps: int, parameters: int) -> tuple[int, int]:
    """Batch and steps that keep one run within WORK (samples x parameters): smaller batches first."""
    if parameters <= 0 or batch * steps * parameters <= WORK:
        return batch, steps
    batch = max(min(batch, MIN_BATCH), min(batch, WORK // (steps * parameters)))
    if batch * steps * parameters > WORK:
        steps = max(MIN_STEPS, WORK // (batch * parameters))
    return int(batch), int(steps)


def copy_for_planning(obj: Any) -> Any:
    """A throw-away copy of the network, to read its layers from (the object itself if it cannot be copied)."""
    import copy

    try:
        return copy.deepcopy(obj)
    except Exception:
        return obj


def _labels_the_loss_takes(obj: Any, data: Data, seed: int) -> Data:
    """Keep one-hot targets when the network's loss takes them, else try integer labels."""
    if data.t.ndim != 2:
        return data

    def loss_with(t: np.ndarray) -> float | None:
        state = np.random.get_state()
        try:
            with _quiet(), isolated(obj) as (work, _):
                np.random.seed(seed % 2**32)
                return _scalar(Network(work).loss(data.x[:OVERFIT_SAMPLES].copy(), t[:OVERFIT_SAMPLES].copy()))
        except Exception:
            return None
        finally:
            np.random.set_state(state)

    one_hot = loss_with(data.t)
    if one_hot is not None and math.isfinite(one_hot):
        return data
    labels = _as_labels(data.t)
    with_labels = loss_with(labels)
    if with_labels is not None and (one_hot is None or math.isfinite(with_labels)):
        return Data(data.x, labels, data.label)
    return data


PROBE_KEY = "_training_probe"


def probe_for(context: Any) -> list[Probe]:
    """The probes of every network in the context, computed once and kept in `context.extras`."""
    extras = context.extras
    if PROBE_KEY in extras:
        return extras[PROBE_KEY]
    probes: list[Probe] = []
    extras[PROBE_KEY] = probes
    options = context.options
    if not getattr(options, "training", True) or not context.networks:
        return probes
    source = getattr(context, "source", None)
    settings = script_settings(getattr(source, "tree", None))
    for built in context.networks:
        try:
            probe = probe_network(
                built, settings, seed=options.seed, data_path=options.data, findings=list(context.findings)
            )
        except Exception:  # never let the probe take the other checks down
            probe = None
        if probe is not None:
            probes.append(probe)
    drawn = [p for p in probes if p.yours.losses]
    if drawn:
        shown = next((p for p in drawn if p.yours.trend != "falls"), drawn[0])
        extras["training"] = shown.extras()
    return probes


# --------------------------------------------------------------------------- words for the evidence


def loss_text(value: float) -> str:
    """Two decimals when that reads well (2.30), else three significant digits (1.23e-5, nan)."""
    if not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if 0.01 <= abs(value) < 1e4:
        return f"{value:.2f}"
    return f"{value:.3g}"


def curve_text(run: Run) -> str:
    """`2.30 → 16.1 in 300 steps` (and how the run ended, when it did not finish)."""
    if not run.losses:
        return f"did not run ({run.error})" if run.error else "did not run"
    text = f"{loss_text(run.losses[0])} → {loss_text(run.losses[-1])} in {len(run.losses)} steps"
    if run.non_finite is not None:
        text += f", {describe_non_finite(run.non_finite)}"
    elif run.error:
        text += f", then raised {run.error}"
    elif run.truncated:
        text += " (stopped early: out of time)"
    return text


def describe_non_finite(nf: NonFinite) -> str:
    if nf.what == "loss":
        where = f" (first in the output of `{nf.layer}`)" if nf.layer else ""
        return f"the loss is {loss_text(nf.value if nf.value is not None else math.nan)} at step {nf.step}{where}"
    names = ", ".join(f"`{p}`" for p in nf.params)
    if nf.what == "gradient":
        return f"the gradient of {names} holds NaN or inf at step {nf.step}"
    return f"the update of step {nf.step} made {names} NaN or inf"


def curve_evidence(probe: Probe) -> tuple[tuple[str, str], ...]:
    """(label, text) rows: both curves side by side, or why there is no reference; and what was trained."""
    rows = [("yours", f"{curve_text(probe.yours)} (lr {probe.lr:g}, batch {probe.yours.batch})")]
    if probe.reference is not None and probe.reference.losses:
        rows.append((f"with {probe.reference_label}", curve_text(probe.reference)))
    elif probe.reference_note:
        rows.append(("reference", sentence(probe.reference_note)))
    rows.append(("probe", probe_description(probe)))
    return tuple(rows)


def probe_description(probe: Probe) -> str:
    lr = probe.settings.lr
    batch = probe.settings.batch_size
    lr_from = f"line {lr.line} of your script" if lr.line else "default: no literal learning rate in your script"
    batch_from = f"line {batch.line}" if batch.line else "default"
    if batch.line and int(batch.value) > probe.yours.batch:
        batch_from += f", cut to {probe.yours.batch} for speed"
    return (
        f"{probe.how}; plain SGD `params[k] -= lr * grads[k]` through its gradient(x, t) on {probe.data_label}; "
        f"lr {lr.value:g} ({lr_from}), batch {probe.yours.batch} ({batch_from})"
        + (f"; {probe.note}" if probe.note else "")
    )


def sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text


def location(context: Any, probe: Probe, line: int | None = None) -> dict[str, Any]:
    """`file=` and `line=` for a finding: the given line, else the update statement, else the constructor call."""
    source = getattr(context, "source", None)
    file = getattr(source, "path", None)
    line = line or probe.settings.update_line or probe.line
    if line is None:
        return {"file": file}
    return {"file": file, "line": line, "highlight": (line,)}


def assignment_line(func: Any, targets: Sequence[str]) -> tuple[str | None, int | None]:
    """File and line of the first statement in `func` that assigns to one of `targets` (as `ast.unparse` spells them)."""
    try:
        func = inspect.unwrap(func)
        lines, start = inspect.getsourcelines(func)
        file = inspect.getsourcefile(func)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (TypeError, OSError, SyntaxError, ValueError):
        return None, None
    wanted = set(targets)
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            node_targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(ast.unparse(t) in wanted for t in node_targets):
                if best is None or node.lineno < best:
                    best = node.lineno
    if best is None:
        return file, None
    return file, start + best - 1


def span(run: Run) -> str:
    """`2.30 → 0.01`: the first loss and the last."""
    if not run.losses:
        return "no steps"
    return f"{loss_text(run.losses[0])} → {loss_text(run.losses[-1])}"


def lr_text(probe: Probe) -> str:
    lr = probe.settings.lr
    return f"lr {lr.value:g} (line {lr.line})" if lr.line else f"lr {lr.value:g} (default)"


def cause_clause(probe: Probe) -> str:
    """What the comparison runs say about the cause, as a clause; "" when they say nothing."""
    ref = probe.reference
    if ref is not None and ref.losses:
        if ref.trend == "falls":
            return f"with {probe.reference_label} swapped in it falls {span(ref)}, which confirms the cause: fix that first"
        return f"with {probe.reference_label} swapped in it does not fall either ({span(ref)})"
    smaller = probe.falls_with_smaller_rate
    if smaller is not None:
        return f"at lr {smaller.lr:g} it falls {span(smaller)}: lower the learning rate"
    return ""


def fix_for(probe: Probe) -> str | None:
    """A snippet for the finding's `fix`: the confirmed reference's, else a smaller rate that worked."""
    if probe.reference_falls:
        for swap in probe.swaps:
            if swap.kind in SWAP_FIXES:
                return SWAP_FIXES[swap.kind]
        return None
    smaller = probe.falls_with_smaller_rate
    if smaller is not None:
        return f"learning_rate = {smaller.lr:g}"
    return None


def dead_layers(probe: Probe) -> list[tuple[ReluActivity, str]]:
    """ReLU layers where most units never fire: (activity, "at initialisation" or "after training")."""
    found = []
    end = {a.layer: a for a in probe.yours.relu_end}
    for start in probe.yours.relu_start:
        if start.fraction > DEAD_FRACTION:
            found.append((start, "at initialisation"))
        elif start.layer in end and end[start.layer].fraction > DEAD_FRACTION:
            found.append((end[start.layer], "after training"))
    return found
