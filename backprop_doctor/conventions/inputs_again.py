"""Time-step layers whose backward is given the forward's inputs again, then its outputs' gradients.

A recurrent step written with the weights passed in rather than held:
`forward(x, prev_s, U, W, V)` returns nothing and keeps its results (`self.s`,
the new state; `self.mulv`, the scores); `backward(x, prev_s, U, W, V, diff_s,
dmulv)` gets the same inputs again, then one upstream gradient per result, and
returns the gradients of the inputs (`dprev_s, dU, dW, dV`).

Example:
    class RNNStep:
        def forward(self, x, prev_s, U, W, V):
            self.s = np.tanh(U.dot(x) + W.dot(prev_s))
            self.scores = V.dot(self.s)

        def backward(self, x, prev_s, U, W, V, diff_s, dscores):
            self.forward(x, prev_s, U, W, V)
            dV = np.outer(dscores, self.s)
            dz = (V.T.dot(dscores) + diff_s) * (1 - self.s ** 2)
            return W.T.dot(dz), np.outer(dz, x), np.outer(dz, prev_s), dV

Recognised by: a layer class whose forward returns no value and whose backward
takes the forward's arguments, in order, then more: the gradients of what
forward keeps, matched by name (`dmulv` for `self.mulv`, `diff_s` for `self.s`);
confirmed by a trial on one sample (`x` (5,), states (4,), weights of the
shapes that run). Gradients: the values backward returns, matched to the inputs
by their names (`return dprev_s, dU, dW, dV`); every input after the first is
checked like a parameter.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array
from backprop_doctor.conventions._classlayer import assigned_attributes, function_node, required_inputs, returns_value
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.static.methods import returned_names

NAME = "inputs-again"
KIND = "class"
ORDER = 11  # before `multi-input`, which would call this backward with one gradient
D, H = 5, 4
PREFIXES = ("diff_", "grad_", "delta_", "d_", "d")


def _methods(cls: type) -> tuple[list[str], list[str]] | None:
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)):
        return None
    return required_inputs(forward), required_inputs(backward)


def _results(cls: type, upstream: list[str]) -> list[str] | None:
    """The attribute each upstream gradient belongs to (`dmulv` -> `mulv`)."""
    kept = assigned_attributes(function_node(cls.forward))
    found = []
    for name in upstream:
        match = next((name[len(p):] for p in PREFIXES if name.startswith(p) and name[len(p):] in kept), None)
        if match is None:
            return None
        found.append(match)
    return found


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    found = _methods(cls)
    if found is None:
        return False
    inputs, again = found
    if len(inputs) < 2 or len(again) <= len(inputs) or again[: len(inputs)] != inputs:
        return False
    node = function_node(cls.forward)
    return node is not None and not returns_value(node) and _results(cls, again[len(inputs):]) is not None


def label(cls: type) -> str:
    return cls.__name__


class InputsAgain(Adapter):
    def __init__(self, layer: Any, inputs: dict[str, np.ndarray], results: list[str]):
        cls = type(layer)
        super().__init__(name=cls.__name__, kind="layer", target=cls)
        self.layer = layer
        self._first = next(iter(inputs))
        self._others = {k: v for k, v in inputs.items() if k != self._first}
        self._results = results
        self._shapes: list[tuple[int, ...]] = []
        self._x: np.ndarray | None = None
        self._names = [n for n in returned_names(function_node(cls.backward))]
        if f"d{self._first}" not in self._names:
            self.kind = "recurrent-step"  # backward gives no gradient for x (a one-hot word): only the others are checked

    def params(self) -> dict[str, np.ndarray]:
        return dict(self._others)

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._x = x.copy()
        self.layer.forward(x, *self._others.values())
        kept = [np.asarray(getattr(self.layer, r), dtype=np.float64) for r in self._results]
        self._shapes = [k.shape for k in kept]
        return kept[0] if len(kept) == 1 else np.concatenate([k.ravel() for k in kept])

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        pieces, start = [], 0
        for shape in self._shapes:
            size = int(np.prod(shape))
            pieces.append(np.asarray(dout).ravel()[start:start + size].reshape(shape))
            start += size
        result = self.layer.backward(self._x.copy(), *[v.copy() for v in self._others.values()], *pieces)
        values = list(result) if isinstance(result, tuple) else [result]
        by_name = {n: v for n, v in zip(self._names, values) if n}
        grads = {k: by_name.get(f"d{k}", by_name.get(f"d_{k}")) for k in self._others}
        return by_name.get(f"d{self._first}"), grads

    def backward_target(self) -> Any:
        return type(self.layer).backward

    def forward_target(self) -> Any:
        return type(self.layer).forward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return (f"d{param}", f"d_{param}")


def _runs(layer: Any, arrays: list[np.ndarray], results: list[str], errors: list[BaseException]) -> bool:
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        work = copy.deepcopy(layer)
        work.forward(*[a.copy() for a in arrays])
        kept = [getattr(work, r, None) for r in results]
        if not all(is_float_array(np.asarray(k)) and np.all(np.isfinite(k)) for k in kept):
            return False
        result = work.backward(*[a.copy() for a in arrays], *[np.ones_like(np.asarray(k, dtype=np.float64)) for k in kept])
        return isinstance(result, tuple) and all(np.shape(v) in [a.shape for a in arrays] for v in result)
    except Exception as error:  # noqa: BLE001 - user code: try the next shapes
        errors.append(error)
        return False
    finally:
        np.random.set_state(state)


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    inputs, again = _methods(cls)  # type: ignore[misc]
    results = _results(cls, again[len(inputs):]) or []
    np.random.seed(context.options.seed)
    layer = builder.made(cls, rng)
    x = rng.standard_normal(D)
    shapes = [(H,), (H, D), (H, H), (D, H)]
    errors: list[BaseException] = []
    for choice in itertools.islice(itertools.product(shapes, repeat=len(inputs) - 1), 512):
        others = [(0.5 if len(s) == 2 else 1.0) * rng.standard_normal(s) for s in choice]
        if _runs(layer, [x, *others], results, errors):
            arrays = dict(zip(inputs, [x, *others]))
            shown = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
            return [Case(f"one step: {shown}", InputsAgain(layer, arrays, results), x)]
    names = [e for e in errors if isinstance(e, NameError)]
    if names:  # the same on every shape: a name the file sets up in code the loader does not run
        raise NotChecked(f"`{cls.__name__}` uses `{names[0].name}`, which is not defined when only the file's definitions run")
    raise NotChecked(f"no one-sample shapes tried run through `{cls.__name__}.forward({', '.join(inputs)})` and its backward")
