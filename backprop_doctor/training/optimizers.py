"""One step of a user's optimizer class on made-up parameters: which way does it move them?

The book's chapter 6 and many tutorials write optimizers as classes of their own,

    class Momentum:
        def __init__(self, lr=0.01, momentum=0.9):
            self.lr, self.momentum, self.v = lr, momentum, None

        def update(self, params, grads):
            ...

with `params` and `grads` dicts (or lists) of arrays updated in place. Every usual rule (SGD,
momentum, Nesterov, AdaGrad, RMSProp, Adam) moves each parameter against its gradient on its
first step, so the cosine between a parameter's move and its gradient is near −1; one near +1
climbs the loss. `step` makes that step on fresh arrays, never on the user's.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor import probes

UPDATE_METHODS = ("update", "step", "apply_gradients", "update_params", "update_parameters", "optimize")
PARAM_NAMES = frozenset({"params", "parameters", "param", "weights", "w", "p", "variables", "theta"})
GRAD_NAMES = frozenset({"grads", "gradients", "grad", "g", "dw", "dparams", "d_params", "nabla"})
RATE_NAMES = frozenset({"lr", "learning_rate", "rate", "eta", "alpha", "step_size"})
# `step(params_and_grads)`: one list of (parameter, gradient) pairs, updated in place
PAIR_NAMES = frozenset({"params_and_grads", "param_and_grads", "params_grads", "parameters_and_gradients", "pairs", "grads_and_params", "grads_and_vars"})
RATE = 0.01
SHAPES = {"W1": (4, 3), "b1": (3,), "W2": (3, 2)}


@dataclass
class OptimizerStep:
    """What one `update(params, grads)` did: for each parameter, the cosine of its move with its gradient."""

    cls: type
    method: str
    form: str  # "dict", "list", "pairs" (one list of (param, grad)) or "array" (`update(w, grad)`): what the update was given
    cosines: dict[str, float]


def holds_params(cls: Any) -> bool:
    """`RMSProp(params, lr=1e-3)`, then `opt.step(grads)`: an optimizer handed the parameters when made."""
    try:
        args = [p for p in inspect.signature(cls).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return inspect.isclass(cls) and any(p.name.lower() in PARAM_NAMES and p.default is p.empty for p in args)


def _update(optimizer: Any, method: str, params: Any, grads: Any) -> Any:
    """One update: `update(params, grads)`, or `step(grads)` of an optimizer that holds `params` already
    (one handed them when made that still takes them at each update, `Adam(params).update(params, grads)`,
    is handed both)."""
    bound = getattr(optimizer, method)
    return bound(grads) if holds_params(type(optimizer)) and _required_count(bound) == 1 else bound(params, grads)


def _required_count(bound: Any) -> int | None:
    """How many arguments a bound method requires; None when its signature cannot be read."""
    try:
        values = inspect.signature(bound).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in values)


def update_method(cls: type) -> str | None:
    """The optimizer method of `cls`: the first of `UPDATE_METHODS` taking exactly (params, grads), or
    only the gradients when the class is handed the parameters when made (`holds_params`)."""
    held = holds_params(cls)
    for name in UPDATE_METHODS:
        method = vars(cls).get(name)
        if not inspect.isfunction(method):
            continue
        try:
            args = [p for p in inspect.signature(method).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            continue
        required = [p.name.lower() for p in args[1:] if p.default is p.empty]
        if (len(required) == 2 and required[0] in PARAM_NAMES and _gradient_name(required[1])) or (len(required) == 1 and required[0] in PAIR_NAMES):
            return name
        if held and len(required) == 1 and required[0] in GRAD_NAMES:
            return name
    return None


def _gradient_name(name: str) -> bool:
    """A gradient's argument name: `grads`, `dw`, ..., or one spelled out (`grad_wrt_w`, `gradient_w`)."""
    return name in GRAD_NAMES or name.startswith(("grad_", "gradient_"))


def step(cls: type, method: str, rng: np.random.Generator) -> OptimizerStep | None:
    """One update of a fresh optimizer on fresh parameters, as dicts and else as lists; None when
    neither runs, the class cannot be made with its defaults (and a rate), or nothing moves."""
    values = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
    grads = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
    held = holds_params(cls)
    paired = not held and len([p for p in list(inspect.signature(getattr(cls, method)).parameters.values())[1:] if p.default is p.empty]) == 1
    for form in ("pairs",) if paired else ("list", "dict") if held else ("dict", "list", "array"):
        if form == "array":  # `update(w, grad_wrt_w) -> w`: one array, one fresh optimizer for each (as it is used)
            after = _array_updates(cls, method, values, grads)
            if after is None:
                continue
            cosines = _cosines((name, start, end, grads[name]) for (name, start), end in zip(values.items(), after))
            return OptimizerStep(cls, method, form, cosines) if cosines else None
        params = {k: v.copy() for k, v in values.items()}
        given: Any = params if form == "dict" else list(params.values())
        handed: Any = {k: g.copy() for k, g in grads.items()} if form == "dict" else [g.copy() for g in grads.values()]
        optimizer = _instance(cls, given)
        if optimizer is None:
            return None
        try:
            with probes.quietly():
                returned = getattr(optimizer, method)(list(zip(given, handed))) if form == "pairs" else _update(optimizer, method, given, handed)
        except Exception:  # noqa: BLE001 - user code: not this form of parameters
            continue
        after = _after(given, returned, "list" if form == "pairs" else form)
        if after is None:
            continue
        cosines = _cosines((name, start, end, grads[name]) for (name, start), end in zip(values.items(), after))
        return OptimizerStep(cls, method, form, cosines) if cosines else None
    return None


def _array_updates(cls: type, method: str, values: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> list[Any] | None:
    """Each parameter after one `update(w, grad)` of a fresh optimizer (an optimizer of one array, made
    for each weight, returning the new array or moving it in place); None when that does not run."""
    after = []
    for name, value in values.items():
        optimizer = _instance(cls)
        if optimizer is None:
            return None
        w = value.copy()
        try:
            with probes.quietly():
                returned = getattr(optimizer, method)(w, grads[name].copy())
        except Exception:  # noqa: BLE001 - user code: not an optimizer of one array
            return None
        after.append(_array_after(w, returned))
    return after


def _array_after(given: np.ndarray, returned: Any) -> np.ndarray:
    """The array after an update of one array: the one it returned, else the one it was given."""
    return returned if isinstance(returned, np.ndarray) and returned.shape == given.shape else given


# cs231n's `optim.py`: `sgd(w, dw, config=None) -> (next_w, config)`, and `rmsprop(x, dx, config)`
FUNCTION_PARAMS = frozenset({"w", "x", "param", "params", "theta", "weights"})
FUNCTION_GRADS = frozenset({"dw", "dx", "grad", "grads", "dparam", "dtheta"})
FUNCTION_SHAPE = (4, 3)


def update_function(func: Any) -> bool:
    """Whether `func` is an optimizer function: its required arguments are a parameter and its
    gradient (`sgd(w, dw, config=None)`), and it says so by name or by a `config` it takes."""
    try:
        args = [p for p in inspect.signature(func).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    required = [p.name.lower() for p in args if p.default is p.empty]
    if required[2:] == ["config"]:  # `sgd_momentum(w, dw, config)`: a solver always hands one over
        required = required[:2]
    return len(required) == 2 and required[0] in FUNCTION_PARAMS and required[1] in FUNCTION_GRADS and any(p.name == "config" for p in args)


def _config_needed(func: Any) -> bool:
    """Whether an optimizer function must be handed its `config` (`sgd_momentum(w, dw, config)`, no default):
    it is then handed an empty one, which it fills with its own defaults (`config.setdefault(...)`)."""
    try:
        config = inspect.signature(func).parameters.get("config")
    except (TypeError, ValueError):
        return False
    return config is not None and config.default is config.empty


def step_function(func: Any, rng: np.random.Generator) -> OptimizerStep | None:
    """One call of an optimizer function on a fresh parameter and gradient, with its own default
    configuration; None when it does not return the next parameter (a TODO left as `next_w = None`)."""
    w, dw = rng.standard_normal(FUNCTION_SHAPE), rng.standard_normal(FUNCTION_SHAPE)
    try:
        with probes.quietly():
            returned = func(w.copy(), dw.copy(), {}) if _config_needed(func) else func(w.copy(), dw.copy())
    except Exception:  # noqa: BLE001 - user code: not an optimizer after all, or not written yet
        return None
    after = returned[0] if isinstance(returned, tuple) and returned else returned
    if not isinstance(after, np.ndarray) or after.shape != w.shape:
        return None
    cosines = _cosines([("w", w, after, dw)])
    return OptimizerStep(func, "", "array", cosines) if cosines else None


def _cosines(moves: Iterable[tuple[str, np.ndarray, Any, np.ndarray]]) -> dict[str, float] | None:
    """For each (name, value before, value after, gradient), the cosine of the move with the gradient,
    leaving out a parameter that did not move; None when one ends with another shape or not finite."""
    cosines = {}
    for name, start, end, grad in moves:
        if np.shape(end) != start.shape:
            return None
        moved = np.asarray(end, dtype=np.float64) - start
        if not np.all(np.isfinite(moved)):
            return None
        norm = float(np.linalg.norm(moved) * np.linalg.norm(grad))
        if norm > 0:
            cosines[name] = float(moved.ravel() @ grad.ravel()) / norm
    return cosines


# deeplearning.ai's `update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)`: the
# network's dictionary (`W1`, `b1`, ...) and its gradients' (`dW1`, `db1`, ...), with the optimizer's state
DICT_SHAPES = {"W1": (3, 4), "b1": (3, 1), "W2": (2, 3), "b2": (2, 1)}
DICT_PARAMS = frozenset({"parameters", "params"})
DICT_GRADS = frozenset({"grads", "gradients"})
_STATE = {"t": 2, "beta": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "eps": 1e-8}


def dict_update_function(func: Any) -> bool:
    """Whether `func` is an update of a parameter dictionary: named `update...`, its first two required
    arguments the parameters (`parameters`, `params`, or any name: `net`, `model`) and their gradients (`grads`),
    every other one a rate or optimizer state it can be given."""
    if not getattr(func, "__name__", "").lower().startswith("update"):
        return False
    try:
        args = [p for p in inspect.signature(func).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    required = [p.name for p in args if p.default is p.empty]
    return (
        # the parameters first under whatever name (`update(net, grads, lr)`), beside the gradients by theirs
        len(required) >= 2 and (required[0] in DICT_PARAMS or required[0] not in DICT_GRADS) and required[1] in DICT_GRADS
        and all(name in RATE_NAMES or name in _STATE or name in ("v", "s") for name in required[2:])
    )  # fmt: skip


def step_dict_function(func: Any, rng: np.random.Generator) -> OptimizerStep | None:
    """One call on a fresh two-layer dictionary, its gradients, a rate and zeroed optimizer state (`v`,
    `s` keyed like the gradients); None when it raises or moves nothing."""
    values = {name: rng.standard_normal(shape) for name, shape in DICT_SHAPES.items()}
    grads = {f"d{name}": rng.standard_normal(shape) for name, shape in DICT_SHAPES.items()}
    given = {k: v.copy() for k, v in values.items()}
    arguments: list[Any] = [given, {k: g.copy() for k, g in grads.items()}]
    for p in list(inspect.signature(func).parameters.values())[2:]:
        if p.default is not p.empty:
            break
        arguments.append(RATE if p.name in RATE_NAMES else _STATE[p.name] if p.name in _STATE else {k: np.zeros_like(g) for k, g in grads.items()})
    try:
        with probes.quietly():
            returned = func(*arguments)
    except Exception:  # noqa: BLE001 - user code: not written yet, or another kind of update
        return None
    first = returned[0] if isinstance(returned, tuple) and returned else returned
    after = first if isinstance(first, dict) and all(k in first for k in values) else given
    cosines = _cosines((name, start, after[name], grads[f"d{name}"]) for name, start in values.items())
    return OptimizerStep(func, "", "parameters", cosines) if cosines else None


def _after(given: Any, returned: Any, form: str) -> list[Any] | None:
    """The parameters after the update: those it returned when it returns them, else the ones it
    was given, updated in place."""
    if form == "dict":
        source = returned if isinstance(returned, dict) and returned.keys() == given.keys() else given
        return [source[name] for name in SHAPES]
    source = returned if isinstance(returned, (list, tuple)) and len(returned) == len(given) else given
    return list(source)


def _instance(cls: type, held: Any = None) -> Any:
    """`cls()` with its defaults, a rate for a required rate (`SGD(lr)`), `held` (else a placeholder list,
    then a placeholder dict: `{k: np.zeros_like(v) for k, v in params.items()}`) for the parameters of one
    that holds them (`RMSProp(params)`); None when it needs more."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return None
    kwargs: dict[str, Any] = {}
    holders = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name.lower() in PARAM_NAMES:
            holders.append(p.name)
            continue
        if p.name.lower() not in RATE_NAMES:
            return None
        kwargs[p.name] = RATE
    placeholders = [held] if held is not None or not holders else [[np.zeros(SHAPES["W1"])], {"W1": np.zeros(SHAPES["W1"])}]
    for placeholder in placeholders:
        try:
            with probes.quietly():
                return cls(**kwargs, **dict.fromkeys(holders, placeholder))
        except Exception:  # noqa: BLE001 - user code: not this form of parameters
            continue
    return None


# Adam, given the same gradient g at every step, moves each parameter by exactly lr · sign(g) at
# every step: its bias corrections make m̂ = g and v̂ = g² whatever the step count, so √v̂ = |g|.
# Gradients of magnitudes between ADAM_SMALLEST and ADAM_LARGEST keep ε (1e-8 to 1e-7, inside or
# outside the root) below ADAM_TOLERANCE of that move, and tell a step that is not √v̂ (1/|g|).
ADAM_STEPS = 5
ADAM_SMALLEST, ADAM_LARGEST = 0.3, 3.0
ADAM_TOLERANCE = 0.02
ADAM_RATE_NAMES = ("lr", "learning_rate", "alpha", "eta", "step_size")


@dataclass
class AdamDrift:
    """How a user's Adam class departs from Adam under a constant gradient: the first step (1-based)
    whose move is not lr · sign(g), its move as a multiple of that (the median over the elements),
    and what the multiples say: "not-finite", "inverse-magnitude" (the step divides by v̂, not √v̂),
    "uniform" (every element moved by one other multiple: a bias correction left out or stuck)."""

    cls: type
    method: str
    rate: float
    step: int
    ratio: float
    kind: str
    ratios: tuple[float, ...]  # the median multiple at every step, for the evidence
    family: str = "Adam"  # or "Adamax", "RMSProp", "AdaGrad" (`rms_drift`)
    largest: tuple[float, ...] = ()  # the largest multiple at every step (one element may move far while the median does not)


def adam_drift(cls: type, method: str, rng: np.random.Generator) -> AdamDrift | None:
    """Five updates of a fresh instance of an Adam class (by its name) under one constant gradient,
    compared with Adam's own; None when it moves as Adam does, or is not an Adam this can judge
    (another name, a weight decay, no rate found, an update that does not run on a dict or list)."""
    name = cls.__name__.lower()
    if "adam" not in name or "adamw" in name:
        return None
    optimizer = _instance(cls)
    if optimizer is None or any(float(getattr(optimizer, a, 0) or 0) != 0 for a in ("weight_decay", "decay", "wd", "l2")
                                if isinstance(getattr(optimizer, a, 0), (int, float))):
        return None
    rate = _rate_of(optimizer)
    if rate is None:
        return None
    magnitude, ratios = _constant_moves(cls, method, rng, rate)
    if ratios is None:
        return None
    drift = _drift(cls, method, rate, ratios, magnitude)
    # Adamax divides the corrected first moment by the running maximum of |g|, which a constant gradient keeps at |g|:
    # its moves are Adam's, lr · sign(g) at every update
    return dataclasses.replace(drift, family="Adamax") if drift is not None and "adamax" in name else drift


def rms_drift(cls: type, method: str, rng: np.random.Generator) -> AdamDrift | None:
    """`adam_drift` for RMSProp and AdaGrad classes (by their names): under a constant gradient each
    moves every element by the same multiple of its rate (1/√(1 − ρᵗ), 1/√t) whatever the gradient's
    size, since it divides by the root of its running square. One that divides by the square itself
    moves by the rate over |g|: "inverse-magnitude"; one that makes NaN or infinity: "not-finite"; one whose
    steps do not shrink as its running square grows (`h = g * g` where `h += g * g` belongs): "not-accumulated"."""
    name = cls.__name__.lower()
    family = "RMSProp" if "rms" in name else "AdaGrad" if "adagrad" in name else None
    optimizer = _instance(cls) if family else None
    if optimizer is None:
        return None
    rate = _rate_of(optimizer)
    if rate is None:
        return None
    magnitude, ratios = _constant_moves(cls, method, rng, rate)
    if ratios is None:
        return None
    medians = tuple(float(np.median(r)) if np.all(np.isfinite(r)) else float("nan") for r in ratios)
    for index, r in enumerate(ratios):
        if not np.all(np.isfinite(r)):
            return AdamDrift(cls, method, rate, index + 1, float("nan"), "not-finite", medians, family)
        if np.median(r) <= 0 or np.all(np.abs(r / np.median(r) - 1) <= ADAM_TOLERANCE):
            continue  # a climb is `update-climbs`'s; the same multiple for every element is as it should be
        if np.all(np.abs(r * magnitude / np.median(r * magnitude) - 1) <= ADAM_TOLERANCE):
            return AdamDrift(cls, method, rate, index + 1, float(np.median(r)), "inverse-magnitude", medians, family)
    if medians[0] > 0 and medians[-1] >= KEPT_SHARE * medians[0] and _accumulates(optimizer, family, medians[0]):
        # AdaGrad's sum of squares grows by g² at each update, so its steps shrink by 1/√t (0.45 of the first by the
        # fifth); RMSProp's average warms up from 0 the same way (√((1 − ρ)/(1 − ρᵗ))). Steps that stay as long as
        # the first keep only the last gradient's square: the running square is overwritten, not added to.
        return AdamDrift(cls, method, rate, len(ratios), medians[-1] / medians[0], "not-accumulated", medians, family)
    return None


KEPT_SHARE = 0.9  # a fifth step at least this share of the first: the running square does not grow (0.45 expected)
RMS_DECAY_NAMES = ("rho", "decay_rate", "decay", "beta", "beta2", "gamma", "alpha_decay")


def _accumulates(optimizer: Any, family: str, first: float) -> bool:
    """Whether the optimizer's running square should have made its steps shrink under a constant gradient:
    AdaGrad's always. RMSProp's only where its first step is longer than the rate (`first`, > `WARMING`): an
    average started at 0 and overwritten each time (`cache = (1 - rho) * g ** 2`) moves 1/√(1 − ρ) times the
    rate at every update, while one started at the first square moves the rate itself at every update, by
    design; and where its decay rate (`rho`, `decay_rate`, ...) is 0.5 or more, or is not found as a number."""
    if family == "AdaGrad":
        return True
    decay = next((float(v) for a in RMS_DECAY_NAMES if isinstance(v := getattr(optimizer, a, None), (int, float)) and not isinstance(v, bool)), None)
    return first > WARMING and (decay is None or 0.5 <= decay < 1)


WARMING = 1.5  # an RMSProp first step this many times its rate or more: its average of squares started at 0


def _rate_of(optimizer: Any) -> float | None:
    """The learning rate an optimizer instance holds (`lr`, `learning_rate`, ...), when it is a positive number."""
    return next((float(v) for a in ADAM_RATE_NAMES if isinstance(v := getattr(optimizer, a, None), (int, float)) and not isinstance(v, bool) and v > 0), None)


def _constant_moves(cls: type, method: str, rng: np.random.Generator, rate: float) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """(the gradient's magnitudes, `_class_moves` under that gradient): one gradient of elements between
    `ADAM_SMALLEST` and `ADAM_LARGEST` in size, random signs, given at every update."""
    magnitude = np.exp(rng.uniform(np.log(ADAM_SMALLEST), np.log(ADAM_LARGEST), SHAPES["W1"]))
    gradient = magnitude * rng.choice([-1.0, 1.0], SHAPES["W1"])
    return magnitude, _class_moves(cls, method, rng, rate, gradient)


def _class_moves(cls: type, method: str, rng: np.random.Generator, rate: float, gradient: np.ndarray) -> list[np.ndarray] | None:
    """Each update's move of a fresh instance of `cls`, given `gradient` at every one of `ADAM_STEPS`
    updates, as a multiple of `rate` against the gradient's sign; parameters handed as a dict, else
    as a list, else as one array (`update(w, grad) -> w`); None when no form runs."""
    for form in ("list", "dict") if holds_params(cls) else ("dict", "list", "array"):
        params: Any = {"W1": rng.standard_normal(SHAPES["W1"])} if form == "dict" else [rng.standard_normal(SHAPES["W1"])]
        candidate = _instance(cls, params)
        ratios: list[np.ndarray] = []
        try:
            with probes.quietly(), np.errstate(all="ignore"):
                for _ in range(ADAM_STEPS):
                    before = np.array(params["W1"] if form == "dict" else params[0], dtype=np.float64)
                    if form == "array":
                        after = params = [_array_after(params[0], getattr(candidate, method)(params[0], gradient.copy()))]
                    else:
                        grads: Any = {"W1": gradient.copy()} if form == "dict" else [gradient.copy()]
                        returned = _update(candidate, method, params, grads)
                        after = _after(params, returned, form) if form == "list" else [
                            (returned if isinstance(returned, dict) and "W1" in returned else params)["W1"]
                        ]
                        if form == "dict" and isinstance(returned, dict) and "W1" in returned:
                            params = returned
                        elif form == "list" and isinstance(returned, (list, tuple)) and len(returned) == 1:
                            params = list(returned)
                    moved = np.asarray(after[0], dtype=np.float64) - before
                    if moved.shape != gradient.shape:
                        raise ValueError("another shape")
                    ratios.append(moved / (-rate * np.sign(gradient)))
        except Exception:  # noqa: BLE001 - user code: not this form of parameters
            continue
        return ratios
    return None


_ADAM_STATE = frozenset({"v", "s", "m", "ms", "vs", "cache", "m_list", "v_list", "first", "second", "moment1", "moment2", "mt", "vt"})
_ADAM_COUNT = frozenset({"t", "step", "iteration", "iter", "timestep", "time_step"})


def adam_function_drift(func: Any, rng: np.random.Generator) -> AdamDrift | None:
    """`adam_drift` of an Adam function: cs231n's `adam(w, dw, config=None) -> (next_w, config)`, its
    `config` handed back at each call; or one given the parameters, their gradients, its moments and
    the update count (deeplearning.ai's `update_parameters_with_adam(parameters, grads, v, s, t, ...)`
    over `W1`/`dW1` dicts, or `adam_step(params, grads, m, v, t)` over lists), the moments it returns
    handed back and `t` counted from 1 by the caller, as such loops do."""
    if "adam" not in getattr(func, "__name__", "").lower():
        return None
    magnitude = np.exp(rng.uniform(np.log(ADAM_SMALLEST), np.log(ADAM_LARGEST), FUNCTION_SHAPE))
    gradient = magnitude * rng.choice([-1.0, 1.0], FUNCTION_SHAPE)
    w = rng.standard_normal(FUNCTION_SHAPE)
    if update_function(func):
        return _cs231n_drift(func, w, gradient, magnitude)
    try:
        signature = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    required = [p.name for p in signature if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(required) < 3 or required[0].lower() not in PARAM_NAMES | DICT_PARAMS or required[1].lower() not in GRAD_NAMES | DICT_GRADS:
        return None
    if not all(n.lower() in _ADAM_STATE | _ADAM_COUNT | RATE_NAMES for n in required[2:]):
        return None
    rate = next((float(p.default) for p in signature if p.name in RATE_NAMES and isinstance(p.default, (int, float))), RATE)
    bias = FUNCTION_SHAPE[:1] + (1,)  # a layer's bias beside its weight: `L = len(parameters) // 2`
    for form in ("dict", "list"):
        keyed = form == "dict"
        parameters: Any = {"W1": w.copy(), "b1": np.zeros(bias)} if keyed else [w.copy(), np.zeros(bias)]
        states = {n: ({"dW1": np.zeros(FUNCTION_SHAPE), "db1": np.zeros(bias)} if keyed else [np.zeros(FUNCTION_SHAPE), np.zeros(bias)])
                  for n in required[2:] if n.lower() in _ADAM_STATE}
        ratios: list[np.ndarray] = []
        try:
            with probes.quietly(), np.errstate(all="ignore"):
                for t in range(1, ADAM_STEPS + 1):
                    grads = {"dW1": gradient.copy(), "db1": np.ones(bias)} if keyed else [gradient.copy(), np.ones(bias)]
                    given = [parameters, grads] + [states[n] if n in states else t if n.lower() in _ADAM_COUNT else rate for n in required[2:]]
                    before = np.array(parameters["W1"] if keyed else parameters[0], dtype=np.float64)
                    returned = func(*given)
                    if isinstance(returned, tuple) and returned and isinstance(returned[0], type(parameters)):
                        parameters = returned[0]
                        for n, value in zip([n for n in required[2:] if n in states], returned[1:]):
                            states[n] = value if isinstance(value, type(parameters)) else states[n]
                    after = np.asarray(parameters["W1"] if keyed else parameters[0], dtype=np.float64)
                    if after.shape != gradient.shape:
                        raise ValueError("another shape")
                    ratios.append((after - before) / (-rate * np.sign(gradient)))
        except Exception:  # noqa: BLE001 - user code: not this form of parameters
            continue
        drift = _drift(func, "", rate, ratios, magnitude)
        return dataclasses.replace(drift, family="Adamax") if drift is not None and "adamax" in func.__name__.lower() else drift
    return None


def _cs231n_drift(func: Any, w: np.ndarray, gradient: np.ndarray, magnitude: np.ndarray) -> AdamDrift | None:
    """cs231n's `adam(w, dw, config=None)`, its `config` handed back at each call (an empty one first
    to a function that must be handed one)."""
    config: Any = {} if _config_needed(func) else None
    rate = None
    ratios: list[np.ndarray] = []
    try:
        with probes.quietly(), np.errstate(all="ignore"):
            for _ in range(ADAM_STEPS):
                returned = func(w.copy(), gradient.copy(), config) if config is not None else func(w.copy(), gradient.copy())
                if not (isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[1], dict)):
                    return None
                after, config = returned
                rate = rate or next((float(v) for k in ("learning_rate", "lr") if isinstance(v := config.get(k), (int, float))), None)
                if rate is None or not isinstance(after, np.ndarray) or after.shape != w.shape:
                    return None
                ratios.append((np.asarray(after, dtype=np.float64) - w) / (-rate * np.sign(gradient)))
                w = np.asarray(after, dtype=np.float64).copy()
    except Exception:  # noqa: BLE001 - user code: not written yet
        return None
    drift = _drift(func, "", rate, ratios, magnitude)
    return dataclasses.replace(drift, family="Adamax") if drift is not None and "adamax" in func.__name__.lower() else drift


def adam_function(func: Any) -> bool:
    """A function named like Adam taking the parameters and their gradients first (`adam_step(params,
    grads, m, v, t)`): stepped by `adam_function_drift` though no other optimizer form fits it."""
    if "adam" not in getattr(func, "__name__", "").lower():
        return False
    try:
        required = [p.name.lower() for p in inspect.signature(func).parameters.values() if p.default is p.empty]
    except (TypeError, ValueError):
        return False
    return len(required) >= 2 and required[0] in PARAM_NAMES | DICT_PARAMS and required[1] in GRAD_NAMES | DICT_GRADS


def _drift(cls: type, method: str, rate: float, ratios: list[np.ndarray], magnitude: np.ndarray) -> AdamDrift | None:
    medians = tuple(float(np.median(r)) if np.all(np.isfinite(r)) else float("nan") for r in ratios)
    largest = tuple(float(np.max(np.abs(r))) if np.all(np.isfinite(r)) else float("nan") for r in ratios)
    for index, r in enumerate(ratios):
        if not np.all(np.isfinite(r)):
            return AdamDrift(cls, method, rate, index + 1, float("nan"), "not-finite", medians, largest=largest)
        if np.all(np.abs(r - 1) <= ADAM_TOLERANCE):
            continue
        if index == 0 and np.median(r) < 0:
            return None  # its first step climbs: `update-climbs` says so
        inverse = np.all(np.abs(r * magnitude / np.median(r * magnitude) - 1) <= ADAM_TOLERANCE) and np.ptp(magnitude) > 1
        uniform = np.all(np.abs(r / np.median(r) - 1) <= ADAM_TOLERANCE)
        kind = "inverse-magnitude" if inverse else "uniform" if uniform else "other"
        return AdamDrift(cls, method, rate, index + 1, float(np.median(r)), kind, medians, largest=largest)
    return None


# Momentum, given the same gradient g at every step, moves each parameter further at each update: by
# lr·g, then lr·g·(1 + μ), then lr·g·(1 + μ + μ²) (or those times 1 − β, an average's velocity). A
# momentum optimizer whose moves stay the same from one update to the next keeps no velocity.
MOMENTUM_STEPS = 4
MOMENTUM_NAMES = ("momentum", "mu", "beta", "gamma", "rho")
_MOMENTUM_SETTINGS = ("momentum", "mu")  # a class not named for momentum is stepped as one when it holds one of these
_MOMENTUM_STATE = frozenset({"v", "velocity", "velocities", "vel", "m", "momentum_buffer"})


@dataclass
class MomentumDrift:
    """A momentum optimizer whose moves under a constant gradient never grow: its velocity is not kept
    from one update to the next (`ratios`: each move over the first, the median over the elements)."""

    cls: Any
    method: str
    coefficient: float
    ratios: tuple[float, ...]
    undecayed: bool = False  # the moves grow by the same amount at every update: the velocity sums every gradient, never decayed
    setting: str | None = None  # where the coefficient is read: an attribute (`momentum`), a `config` key, an argument's name


def momentum_drift(cls: Any, method: str | None, rng: np.random.Generator) -> MomentumDrift | None:
    """Four updates of a momentum optimizer (a class named for momentum with an `update(params,
    grads)`, or deeplearning.ai's `update_parameters_with_momentum(parameters, grads, v, beta,
    learning_rate)`) under one constant gradient; a drift when every move equals the first while its
    coefficient is above 0, or when the moves grow by the same amount at each update (`undecayed`);
    None otherwise (momentum's own growth, another optimizer, one that does not run). A class named
    otherwise that holds a `momentum` or `mu` (`SGD(lr, momentum=0.9)`) is judged for `undecayed` only."""
    name = getattr(cls, "__name__", "").lower()
    named = any(word in name for word in ("momentum", "nesterov"))
    if not named and method is None:
        return None
    gradient = rng.choice([-1.0, 1.0], FUNCTION_SHAPE) * np.exp(rng.uniform(np.log(0.3), np.log(3.0), FUNCTION_SHAPE))
    if method is None and update_function(cls):
        return _config_momentum_drift(cls, rng, gradient)
    if method is not None:
        held = holds_params(cls)
        params: Any = [rng.standard_normal(FUNCTION_SHAPE)] if held else {"W1": rng.standard_normal(FUNCTION_SHAPE)}
        optimizer = _instance(cls, params)
        setting = next((a for a in MOMENTUM_NAMES if isinstance(getattr(optimizer, a, None), (int, float)) and not isinstance(getattr(optimizer, a), bool)), None)
        coefficient = float(getattr(optimizer, setting)) if setting is not None else None
        if optimizer is None or coefficient is None or not named and setting not in _MOMENTUM_SETTINGS:
            return None

        def call(_: int) -> None:
            _update(optimizer, method, params, [gradient.copy()] if held else {"W1": gradient.copy()})

        def read() -> np.ndarray:
            return np.asarray(params[0] if held else params["W1"], dtype=np.float64)
    else:
        try:
            signature = [p for p in inspect.signature(cls).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            return None
        names = [p.name.lower() for p in signature]
        if len(names) < 4 or names[0] not in DICT_PARAMS | PARAM_NAMES or names[1] not in DICT_GRADS | GRAD_NAMES or names[2] not in _MOMENTUM_STATE:
            return None
        coefficient = 0.9
        values = {n: coefficient if n in MOMENTUM_NAMES else RATE if n in RATE_NAMES else None for n in names[3:]}
        setting = next((n for n in names[3:] if n in MOMENTUM_NAMES), None)
        if any(v is None for v in values.values()):
            return None
        bias = FUNCTION_SHAPE[:1] + (1,)  # a layer's bias beside its weight: `L = len(parameters) // 2`
        state: dict[str, Any] = {
            "parameters": {"W1": rng.standard_normal(FUNCTION_SHAPE), "b1": np.zeros(bias)},
            "v": {"dW1": np.zeros(FUNCTION_SHAPE), "db1": np.zeros(bias)},
        }

        def call(_: int) -> None:
            returned = cls(state["parameters"], {"dW1": gradient.copy(), "db1": np.ones(bias)}, state["v"], *values.values())
            if isinstance(returned, tuple) and len(returned) == 2 and all(isinstance(r, dict) for r in returned):
                state["parameters"], state["v"] = returned

        def read() -> np.ndarray:
            return np.asarray(state["parameters"]["W1"], dtype=np.float64)
    if coefficient <= 0 or coefficient >= 1:
        return None
    moves = _moves(call, read, MOMENTUM_STEPS)
    if moves is None:
        return None
    if not named:  # a class named otherwise that holds a `momentum` (`SGD(lr, momentum=0.9)`): only a velocity never decayed
        return _undecayed_moves(cls, method or "", coefficient, moves, gradient, setting)
    return _momentum_moves(cls, method or "", coefficient, moves, gradient, setting)


def _momentum_moves(cls: Any, method: str, coefficient: float, moves: list[np.ndarray], gradient: np.ndarray, setting: str | None) -> MomentumDrift | None:
    """A drift when the moves stay the same (no velocity kept), or when they grow by the same amount at every
    update (a velocity never decayed)."""
    return _unchanged_moves(cls, method, coefficient, moves, gradient) or _undecayed_moves(cls, method, coefficient, moves, gradient, setting)


def _undecayed_moves(cls: Any, method: str, coefficient: float, moves: list[np.ndarray], gradient: np.ndarray, setting: str | None) -> MomentumDrift | None:
    """A drift when each move under the constant gradient exceeds the one before by the same amount:
    momentum's grow by μ, μ², μ³ times the first (towards 1/(1 − μ) of it), a velocity whose old value
    is never multiplied by μ grows by the whole first move at every update (1, 2, 3, 4 times it) and
    without bound. Read on every element, not only their median."""
    first = moves[0]
    if coefficient > UNDECAYED_BELOW or first.shape != gradient.shape or not all(np.all(np.isfinite(m)) for m in moves) or not np.all(np.abs(first) > 0):
        return None
    ratios = [m / first for m in moves]
    steps = [b - a for a, b in zip(ratios, ratios[1:])]
    if not np.all(steps[0] > 0.05):
        return None
    if not all(np.all(np.abs(later / steps[0] - 1) <= 1e-6) for later in steps[1:]):
        return None
    return MomentumDrift(cls, method, coefficient, tuple(float(np.median(r)) for r in ratios), undecayed=True, setting=setting)


UNDECAYED_BELOW = 0.999  # a coefficient this close to 1 decays too little to tell from none in four updates


def _moves(call: Any, read: Any, steps: int) -> list[np.ndarray] | None:
    """What each of `steps` updates (`call(k)`) moved the parameter `read()` returns by; None when the
    user's optimizer raised (not one this form runs)."""
    moves: list[np.ndarray] = []
    try:
        with probes.quietly(), np.errstate(all="ignore"):
            for k in range(steps):
                before = read().copy()
                call(k)
                moves.append(read() - before)
    except Exception:  # noqa: BLE001 - user code: not an optimizer this can run
        return None
    return moves


def _unchanged_moves(cls: Any, method: str, coefficient: float, moves: list[np.ndarray], gradient: np.ndarray) -> MomentumDrift | None:
    """A drift when every move under the constant gradient equals the first (none of them zero)."""
    first = moves[0]
    if first.shape != gradient.shape or not np.all(np.isfinite(first)) or not np.all(np.abs(first) > 0):
        return None
    ratios = tuple(float(np.median(m / first)) for m in moves)
    if all(abs(r - 1) <= 1e-9 for r in ratios[1:]):
        return MomentumDrift(cls, method, coefficient, ratios)
    return None


def _config_momentum_drift(func: Any, rng: np.random.Generator, gradient: np.ndarray) -> MomentumDrift | None:
    """cs231n's `sgd_momentum(w, dw, config=None) -> (next_w, config)` under one constant gradient, the
    `config` it returns handed back at each call as a solver does (an empty one first, when it must be
    handed one); its coefficient is the one its `config` holds after the first call (`config["momentum"]`)."""
    w = rng.standard_normal(FUNCTION_SHAPE)
    config: Any = {} if _config_needed(func) else None
    coefficient, setting = None, None
    moves: list[np.ndarray] = []
    try:
        with probes.quietly(), np.errstate(all="ignore"):
            for _ in range(MOMENTUM_STEPS):
                returned = func(w.copy(), gradient.copy(), config) if config is not None else func(w.copy(), gradient.copy())
                if not (isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[1], dict) and isinstance(returned[0], np.ndarray)):
                    return None
                after, config = returned
                if coefficient is None:
                    setting = next((k for k in MOMENTUM_NAMES if isinstance(v := config.get(k), (int, float)) and not isinstance(v, bool)), None)
                    coefficient = float(config[setting]) if setting is not None else None
                if coefficient is None or after.shape != w.shape:
                    return None
                moves.append(np.asarray(after, dtype=np.float64) - w)
                w = np.asarray(after, dtype=np.float64).copy()
    except Exception:  # noqa: BLE001 - user code: not an optimizer this can run
        return None
    if coefficient <= 0 or coefficient >= 1:
        return None
    return _momentum_moves(func, "", coefficient, moves, gradient, f"config[{setting!r}]")


# --------------------------------------------------------------------------- AdaGrad's sum of squares

# AdaGrad under one constant gradient moves by lr·g/√(k·g²): its k-th move is 1/√k of its first.
ADAGRAD_STEPS = 4
_ADAGRAD_STATE = frozenset({"h", "cache", "g2", "gsum", "accum", "accumulator", "sq", "squares", "s", "r", "G"})


@dataclass
class AdagradDrift:
    """An AdaGrad optimizer whose moves under a constant gradient stay the same: it keeps no sum of
    the squared gradients (`ratios`: each move over the first, the median over the elements; AdaGrad's
    are 1, 1/√2, 1/√3, ...)."""

    cls: Any
    method: str
    ratios: tuple[float, ...]


def adagrad_function(func: Any) -> bool:
    """A function named for AdaGrad taking the parameters and their gradients first (`adagrad_update(params,
    grads, h, lr=0.01)`): stepped by `adagrad_drift` though no other optimizer form fits it."""
    if "adagrad" not in getattr(func, "__name__", "").lower().replace("_", ""):
        return False
    try:
        required = [p.name.lower() for p in inspect.signature(func).parameters.values() if p.default is p.empty]
    except (TypeError, ValueError):
        return False
    return len(required) >= 2 and required[0] in PARAM_NAMES | DICT_PARAMS and required[1] in GRAD_NAMES | DICT_GRADS


def adagrad_drift(cls: Any, method: str | None, rng: np.random.Generator) -> AdagradDrift | None:
    """Four updates of an AdaGrad optimizer (a class named for it with an `update(params, grads)`, or a
    function `adagrad_function` accepts, its sum handed to it as a dict keyed like the parameters or like
    the gradients, or as a list) under one constant gradient; a drift when every move equals the first
    (AdaGrad's shrink as 1/√k); None otherwise (another optimizer, one that does not run)."""
    if "adagrad" not in getattr(cls, "__name__", "").lower().replace("_", ""):
        return None
    gradient = rng.choice([-1.0, 1.0], FUNCTION_SHAPE) * np.exp(rng.uniform(np.log(0.3), np.log(3.0), FUNCTION_SHAPE))
    if method is not None:
        held = holds_params(cls)
        params: Any = [rng.standard_normal(FUNCTION_SHAPE)] if held else {"W1": rng.standard_normal(FUNCTION_SHAPE)}
        optimizer = _instance(cls, params)
        if optimizer is None:
            return None
        forms = [(lambda _k: _update(optimizer, method, params, [gradient.copy()] if held else {"W1": gradient.copy()}),
                  lambda: np.asarray(params[0] if held else params["W1"], dtype=np.float64))]  # fmt: skip
    elif adagrad_function(cls):
        forms = _adagrad_function_forms(cls, rng, gradient)
    else:
        return None
    for call, read in forms:
        moves = _moves(call, read, ADAGRAD_STEPS)
        if moves is None:
            continue  # not this form
        first = moves[0]
        if first.shape != gradient.shape or not np.all(np.isfinite(first)) or not np.all(np.abs(first) > 0):
            return None
        ratios = tuple(float(np.median(m / first)) for m in moves)
        return AdagradDrift(cls, method or "", ratios) if all(abs(r - 1) <= 1e-6 for r in ratios[1:]) else None
    return None


def _adagrad_function_forms(func: Any, rng: np.random.Generator, gradient: np.ndarray) -> list[tuple[Any, Any]]:
    """(call, read) for each way an AdaGrad function may take its state: a dict keyed like the
    parameters (`h["W1"]`), one keyed like the gradients (`h["dW1"]`), a list."""
    signature = [p for p in inspect.signature(func).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in signature if p.default is p.empty]
    if not all(n in _ADAGRAD_STATE or n.lower() in _ADAGRAD_STATE or n.lower() in RATE_NAMES for n in required[2:]):
        return []
    start = rng.standard_normal(FUNCTION_SHAPE)
    forms = []
    for keys in (("W1", "W1"), ("dW1", "dW1"), ("W1", "dW1"), None):
        state: dict[str, Any] = {"params": {"W1": start.copy()} if keys else [start.copy()], "sums": {}}

        def call(_k: int, keys: Any = keys, state: dict[str, Any] = state) -> None:
            grads = {keys[1]: gradient.copy()} if keys else [gradient.copy()]
            given = [state["params"], grads]
            for n in required[2:]:
                if n.lower() in RATE_NAMES:
                    given.append(RATE)
                else:
                    given.append(state["sums"].setdefault(n, {keys[0]: np.zeros(FUNCTION_SHAPE)} if keys else [np.zeros(FUNCTION_SHAPE)]))
            returned = func(*given)
            if isinstance(returned, tuple) and returned and isinstance(returned[0], type(state["params"])):
                state["params"] = returned[0]
            elif isinstance(returned, type(state["params"])) and returned is not state["params"] and returned:
                state["params"] = returned

        def read(keys: Any = keys, state: dict[str, Any] = state) -> np.ndarray:
            params = state["params"]
            return np.asarray(params["W1"] if keys else params[0], dtype=np.float64)

        forms.append((call, read))
    return forms
