"""Layers that hold each parameter as a small object: an array beside its gradient.

    class Param:
        def __init__(self, data):
            self.data = data
            self.grad = np.zeros_like(data)

    class Linear:
        def __init__(self, n_in, n_out):
            self.W = Param(np.random.randn(n_in, n_out) * 0.1)
            self.b = Param(np.zeros(n_out))            # or self.params = {"W": Param(...), "b": Param(...)}

        def forward(self, x):
            self.x = x
            return x @ self.W.data + self.b.data

        def backward(self, dout):
            self.W.grad += self.x.T @ dout           # added into, as an optimizer's zero_grad() empties it
            self.b.grad += dout.sum(axis=0)
            return dout @ self.W.data.T

`held_parameters(layer)` finds such objects (a dataclass `Param(value, grad)` too) among the layer's
attributes, in a dict or a list it holds (`self.params = {"W": Param(...)}`), each named as the
report names it (`W`) with the path backward writes its gradient at (`self.params['W'].grad`).
`ClassLayer` checks each one's array (`W.data`) against its gradient (`W.grad`), and sets every
gradient to zeros before each backward: a backward that adds into `grad` is right by design, its
training loop's `zero_grad()` emptying it (a loop that never does is `checks/grad_not_zeroed.py`'s).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import is_float_array

VALUE_NAMES = ("data", "value", "val", "values", "array", "tensor", "weight", "w")  # what the object calls its array
GRAD_NAMES = ("grad", "gradient")  # and its gradient


@dataclass(frozen=True)
class Held:
    """One parameter object of a layer: `holder.<value>` is the array, `holder.<grad>` its gradient."""

    holder: Any
    value: str  # `data`
    grad: str  # `grad`
    path: str  # where the layer holds it, after `self.`: `W`, `params['W']`, `params[0]`

    @property
    def array(self) -> Any:
        return getattr(self.holder, self.value, None)

    @property
    def gradient(self) -> Any:
        return getattr(self.holder, self.grad, None)

    def zero(self) -> np.ndarray:
        """Sets the gradient to a new array of zeros (the one before it stays as it was) and returns it."""
        zeros = np.zeros_like(self.array)
        setattr(self.holder, self.grad, zeros)
        return zeros

    @property
    def grad_path(self) -> str:
        """`W.grad`, `params['W'].grad`."""
        return f"{self.path}.{self.grad}"

    def grad_spellings(self, me: str) -> tuple[str, ...]:
        """How a backward may write the gradient: `self.W.grad`, `self.params['W'].grad` (as `ast.unparse`
        spells it, and with double quotes)."""
        first = f"{me}.{self.grad_path}"
        return tuple(dict.fromkeys((first, first.replace("'", '"'))))


def holder_names(value: Any) -> tuple[str, str] | None:
    """(value attribute, gradient attribute) of a parameter object (`Param` with a float array `data`
    and a `grad` that is a float array, a number or None); None for anything else, a layer (it has a
    `forward`) included."""
    if isinstance(value, (np.ndarray, type)) or inspect.ismodule(value) or callable(getattr(type(value), "forward", None)):
        return None
    own = _own(value)
    if not own:
        return None
    held = next((n for n in VALUE_NAMES if is_float_array(own.get(n))), None)
    grad = next((n for n in GRAD_NAMES if n in own), None)
    if held is None or grad is None:
        return None
    g = own[grad]
    if g is None or (isinstance(g, (int, float, np.floating)) and not isinstance(g, bool)) or is_float_array(g):
        return held, grad  # an array of another shape too: a wrong gradient the last backward left
    return None


def _own(value: Any) -> dict[str, Any]:
    """The instance's attributes: its `__dict__`, or what its class's `__slots__` hold (`__slots__ = ("data", "grad")`)."""
    if hasattr(value, "__dict__"):
        return vars(value)
    slots = [n for klass in type(value).__mro__ for n in _slot_names(getattr(klass, "__slots__", ()))]
    if type(value).__module__ in ("builtins", "numpy") or not slots:
        return {}
    missing = object()
    return {n: v for n in slots if (v := getattr(value, n, missing)) is not missing}


def _slot_names(slots: Any) -> tuple[str, ...]:
    """The names one class's `__slots__` declares (one string, or an iterable of them)."""
    if isinstance(slots, str):
        return (slots,)
    return tuple(n for n in slots or () if isinstance(n, str) and not n.startswith("__"))


def held_parameters(layer: Any) -> dict[str, Held]:
    """{name: Held} of the parameter objects `layer` holds: its attributes first (`W`), then the entries of
    a dict (`params['W']`, named `W` when no attribute has that name) or a list (`params[0]`) it holds, an
    object held twice (`self.params = [self.W, self.b]`) once, under its first name."""
    own = vars(layer) if hasattr(layer, "__dict__") and not isinstance(layer, type) else {}
    found: dict[str, Held] = {}
    seen: set[int] = set()
    for attr, value in own.items():
        names = holder_names(value)
        if names is not None and id(value) not in seen:
            found[attr] = Held(value, *names, attr)
            seen.add(id(value))
    for attr, value in own.items():
        if isinstance(value, dict):
            entries = [(key, v, f"{attr}[{key!r}]") for key, v in value.items() if isinstance(key, (str, int))]
        elif isinstance(value, (list, tuple)):
            entries = [(i, v, f"{attr}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        for key, v, path in entries:
            names = holder_names(v)
            if names is None or id(v) in seen:
                continue
            name = key if isinstance(key, str) and key.isidentifier() and key not in own and key not in found else path.replace("'", "")
            found[name] = Held(v, *names, path)
            seen.add(id(v))
    return found
