"""Layer objects whose forward returns its output beside a cache that backward is handed back.

cs231n's function pairs written as a class: `forward(x)` returns `(out, cache)` (the cache may be the
input itself, or a tuple of what the pass computed) and the caller hands the cache to `backward(dout,
cache)`, which returns the input gradient first, then the parameters' gradients: one after another
(`return dx, dW, db`) or as one tuple in the order of the layer's own list of parameters
(`return dx, (dW, db)` beside `get_params()` returning `(self.W, self.b)`), possibly followed by
what backward hands on (`return dx, grads, bwd_state`).

Example:
    class Linear:
        def get_params(self):
            return (self.W, self.b)

        def forward(self, x):
            return x @ self.W + self.b, x

        def backward(self, dout, fwd_x):
            return dout @ self.W.T, (fwd_x.T @ dout, dout.sum(axis=0))

Recognised by: a class whose forward takes one input and returns a pair, the second a name
(`return y, fwd_x`), and whose backward takes an upstream gradient and then that same name (or a
name with `cache` in it); confirmed by a trial forward that returns (an array, anything) and a
trial backward. Gradients: dx is backward's first value; the parameters' follow it, matched to the
layer's list of parameters by order (and shape), or to its arrays by their names (`dW` for `W`);
else the attribute backward keeps it in (`self.dW = cache.T @ dout`).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, gradient_names, is_float_array, train_kwargs
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.static.methods import returned_attributes, returned_names

NAME = "cache-layers"
KIND = "class"
ORDER = 11  # before `multi-input` and the layer conventions, which would take the cache for a second output


def _cache_name(cls: type) -> str | None:
    """The name backward takes the cache under, when forward returns it by that name (or it says `cache`)."""
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)) or len(required_inputs(forward)) != 1:
        return None
    if "." not in getattr(forward, "__qualname__", ""):
        return None  # `forward = _forward`: a function of the module, which no backward of its class was written beside
    args = required_inputs(backward)
    if len(args) != 2:
        return None
    returned = returned_names(function_node(forward))
    if len(returned) != 2 or not returned[1]:
        return None
    return args[1] if args[1] == returned[1] or "cache" in args[1].lower() else None


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return isinstance(cls, type) and _cache_name(cls) is not None


def label(cls: type) -> str:
    return cls.__name__


def parameter_order(cls: type) -> list[str]:
    """The attributes a no-argument method returns as the layer's parameters (`get_params()`), in order."""
    for name, member in vars(cls).items():
        if name.startswith("__") or not callable(member) or name in ("forward", "backward"):
            continue
        try:
            if len(required_inputs(member)) != 0:
                continue
        except (TypeError, ValueError):
            continue
        found = returned_attributes(function_node(member))
        if found:
            return found
    return []


class CacheLayer(Adapter):
    """`forward(x) -> (out, cache)`, `backward(dout, cache) -> (dx, gradients...)`."""

    def __init__(self, layer: Any, order: list[str], train: bool = True):
        cls = type(layer)
        super().__init__(name=cls.__name__, kind="layer", target=cls, train=train)
        self.layer = layer
        self._order = order  # the parameters' attributes, in the order of the layer's own list
        self._cache: Any = None
        self._names = returned_names(function_node(cls.backward))
        self._place: dict[str, tuple[int, int | None]] = {}  # parameter -> (value, entry) of what backward returns
        self._kept: dict[str, str] = {}  # parameter -> the attribute backward keeps its gradient in (`self.dW = ...`)

    def settle(self, x: np.ndarray, result: Any, worked: Any = None) -> None:
        """Where each parameter's gradient is in what backward returned on a trial (`result`), or in the
        attribute the trial's copy of the layer (`worked`) kept it in."""
        values = result if isinstance(result, tuple) else (result,)
        if worked is not None:
            for attr, value in vars(self.layer).items():
                if not is_float_array(value):
                    continue
                name = next((g for g in gradient_names(attr) if g != attr and np.shape(getattr(worked, g, None)) == value.shape and is_float_array(getattr(worked, g, None))), None)
                if name is not None:
                    self._kept[attr] = name
        arrays = {a: getattr(self.layer, a) for a in self._order if is_float_array(getattr(self.layer, a, None))}
        for i, value in enumerate(values[1:], start=1):
            if isinstance(value, (tuple, list)) and len(value) == len(self._order) and arrays:
                if all(np.shape(g) == np.shape(getattr(self.layer, a, None)) for g, a in zip(value, self._order)):
                    self._place = {a: (i, j) for j, a in enumerate(self._order) if a in arrays}
                    return
        held = {k: v for k, v in vars(self.layer).items() if is_float_array(v)}
        for i, name in enumerate(self._names[1:], start=1):
            owner = next((a for a in held if name and name in gradient_names(a)), None)
            if owner is not None and i < len(values) and np.shape(values[i]) == held[owner].shape:
                self._place[owner] = (i, None)

    def params(self) -> dict[str, np.ndarray]:
        return {a: getattr(self.layer, a) for a in [*self._place, *self._kept]}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        forward = self.layer.forward
        out = forward(x, **train_kwargs(forward, self.train))
        if isinstance(out, tuple) and len(out) == 2:
            out, self._cache = out
        return out

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        result = self.layer.backward(dout, self._cache)
        values = result if isinstance(result, tuple) else (result,)
        grads = {}
        for name, (i, j) in self._place.items():
            value = values[i] if i < len(values) else None
            grads[name] = value[j] if j is not None and isinstance(value, (tuple, list)) and j < len(value) else value if j is None else None
        grads.update((name, getattr(self.layer, kept, None)) for name, kept in self._kept.items())
        return values[0], grads

    def backward_target(self) -> Any:
        return type(self.layer).backward

    def forward_target(self) -> Any:
        return type(self.layer).forward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        if param in self._kept:
            return (f"self.{self._kept[param]}",)
        i, j = self._place.get(param, (0, None))
        name = self._names[i] if i < len(self._names) and self._names[i] else ""
        return tuple(n for n in (f"d{param}", f"d_{param}", name) if n)


def trial(layer: Any, x: np.ndarray, train: bool) -> tuple[Any, Any, Any] | None:
    """(forward's output, backward's result, the copy they ran on) on copies, NumPy's global RNG seeded and put back."""
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        work = copy.deepcopy(layer)
        out = work.forward(x.copy(), **train_kwargs(work.forward, train))
        if not (isinstance(out, tuple) and len(out) == 2 and is_float_array(out[0]) and np.all(np.isfinite(out[0]))):
            return None
        return out[0], work.backward(np.ones_like(out[0]), out[1]), work
    except Exception:  # noqa: BLE001 - user code, on shapes the tool guessed
        return None
    finally:
        np.random.set_state(state)


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    np.random.seed(context.options.seed)
    layer = builder.made(cls, rng)
    n = min(context.options.batch_size, 5)
    widths = [m.shape[0] for m in vars(layer).values() if is_float_array(m) and m.ndim == 2]
    widths += [m.shape[1] for m in vars(layer).values() if is_float_array(m) and m.ndim == 2]
    for d in dict.fromkeys([*widths, 6]):
        x = rng.standard_normal((n, d))
        tried = trial(layer, x, context.options.train)
        if tried is None:
            continue
        adapter = CacheLayer(layer, parameter_order(cls), train=context.options.train)
        adapter.settle(x, tried[1], tried[2])
        return [Case(f"x {x.shape}", adapter, x)]
    raise NotChecked(f"no input shapes tried run through `{cls.__name__}.forward(x)` and `backward(dout, {_cache_name(cls)})`")
