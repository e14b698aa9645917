"""Scalar autograd engines written by hand (micrograd style): each operation checked against its derivative.

A `Value` class wraps one number (`data`), keeps its gradient in `grad`, and every operator
(`__add__`, `__mul__`, `__pow__`, `tanh`, `exp`, ...) returns a new `Value` whose `_backward`
closure adds the output's gradient, times the local derivative, into its inputs' `grad`;
`backward()` orders the graph and calls those closures from the output back. A mistake in one
closure (a wrong derivative, `=` where `+=` belongs) makes every network built from the class
learn wrongly, and no NumPy gradient checker can see it.

`engine_classes` finds such classes in the user's namespace; `check_engine` builds each operation
on fresh values, runs the class's own `backward`, and compares every input's `grad` with the
central difference of the output's `data` (float64 scalars: the difference is exact to about
1e-9, far below a wrong derivative). Expressions that use one value twice (`a * a`, `a + a`)
find a gradient that is assigned instead of accumulated; a chain (`(a * b + b).tanh()`) finds a
`backward` that visits the graph in the wrong order when every operation alone is right. An array
engine's matrix product (`a @ b`, which 0-d arrays cannot take) is built on 1 × 1 matrices (`MATRIX`).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

STEP = 1e-6
TOLERANCE = 1e-5  # relative, against the larger of the two slopes and 1
POINT = {"a": 0.7, "b": -1.3}  # away from every kink (relu at 0) and every pole (log, division)

# (expression, the operator method it exercises, the inputs it is a function of, what it shows)
EXPRESSIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("a + b", "__add__", ("a", "b"), "op"),
    ("a * b", "__mul__", ("a", "b"), "op"),
    ("a ** 2", "__pow__", ("a",), "op"),
    ("a ** 3", "__pow__", ("a",), "op"),
    ("a.tanh()", "tanh", ("a",), "op"),
    ("a.exp()", "exp", ("a",), "op"),
    ("a.relu()", "relu", ("a",), "op"),
    ("a.sigmoid()", "sigmoid", ("a",), "op"),
    ("a.log()", "log", ("a",), "op"),
    ("-a", "__neg__", ("a",), "op"),
    ("a - b", "__sub__", ("a", "b"), "op"),
    ("a / b", "__truediv__", ("a", "b"), "op"),
    ("a + a", "__add__", ("a",), "reuse"),
    ("a * a", "__mul__", ("a",), "reuse"),
    ("(a * b + b).tanh()", "backward", ("a", "b"), "chain"),
    ("(a * b + a * a) * b", "backward", ("a", "b"), "chain"),
    # chains of one operation, for an engine with few operators (an array engine with `relu` and `@` only):
    # `backward()` visiting the graph from the inputs on hands each node its gradient before it has one
    ("a.relu().relu()", "backward", ("a",), "chain"),
    ("a.tanh().tanh()", "backward", ("a",), "chain"),
    ("a.sigmoid().sigmoid()", "backward", ("a",), "chain"),
    ("a.exp().exp()", "backward", ("a",), "chain"),
    # an array engine's matrix product, on 1 × 1 matrices (`MATRIX`: a product of 0-d arrays raises): its closure
    # passes `out.grad @ other.data.T` back, and a layer's input is often used again (a skip connection, `h + h @ W`)
    ("a @ b", "__matmul__", ("a", "b"), "op"),
    ("a @ a", "__matmul__", ("a",), "reuse"),
    ("(a @ b + a) @ b", "backward", ("a", "b"), "chain"),
)

MATRIX = "@"  # an expression holding it is evaluated on values made from 1 × 1 matrices, not from numbers


@dataclass
class OpCheck:
    """One expression on one engine class: each input's gradient, the class's and the true one."""

    cls: str
    expression: str
    method: str  # the operator method it exercises ("__mul__"), or "backward" for a chain
    kind: str  # "op", "reuse" or "chain"
    analytic: dict[str, float] = field(default_factory=dict)
    numerical: dict[str, float] = field(default_factory=dict)
    assigned: list[str] = field(default_factory=list)  # inputs whose earlier gradient the closure overwrote


    def error(self, name: str) -> float:
        a, n = self.analytic[name], self.numerical[name]
        return abs(a - n) / max(abs(a), abs(n), 1.0)

    @property
    def wrong(self) -> list[str]:
        return [name for name in self.numerical if not self.error(name) <= TOLERANCE]


def engine_classes(namespace: dict[str, Any], mine: Callable[[type], bool]) -> list[type]:
    """Classes the user wrote (`mine`) that wrap a number with a gradient and a graph: operators that
    return new instances, a `backward` method, and `data`/`grad` on an instance made from a float.
    An array engine (a `Tensor` class wrapping an ndarray, `np.asarray(data)`) counts too: made from a
    float it holds a one-element array, and its `grad` is one (`np.zeros_like(self.data)`)."""
    found = []
    for value in list(namespace.values()):
        if not inspect.isclass(value) or not callable(getattr(value, "backward", None)):
            continue
        if not any(op in vars(value) for op in ("__mul__", "__add__", "__matmul__")) or not mine(value):
            continue
        try:
            sample = value(POINT["a"])
        except Exception:  # noqa: BLE001 - not constructible from one number: not a scalar engine
            continue
        if number_attribute(sample) is not None and held_number(getattr(sample, "grad", None)) is not None:
            found.append(value)
    return found


NUMBER_NAMES = ("data", "value", "val", "v", "x", "number", "num")  # what a scalar engine calls the number it wraps


def held_number(value: Any) -> float | None:
    """The float in a Python number, a NumPy float or a float array of one element (an array engine's
    0-d `data`); None for anything else (a bool, an integer array, a larger array)."""
    import numpy as np

    if isinstance(value, bool) or isinstance(value, np.bool_):
        return None
    if isinstance(value, (int, float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind == "f":
        return float(value.reshape(()))
    return None


def number_attribute(sample: Any) -> str | None:
    """The attribute an engine's value keeps its number in (`data` in micrograd, `value`, `val`): the
    first of `NUMBER_NAMES` holding the number the value was made from."""
    return next((n for n in NUMBER_NAMES if held_number(getattr(sample, n, None)) == POINT["a"]), None)


def node_number(value: Any) -> float | None:
    """The number a node of an autograd engine holds (a loss the program computes as micrograd's `Value`
    of a Python float, or as a `Tensor` wrapping a one-element ndarray, with its `backward` method, or a
    loss object's forward returning a parameter object of one element, `Param(np.array(loss))` beside its
    `grad`: `conventions._param_objects`); None when `value` is not such a node. The replay copies such a
    node without the graph behind it (`replay.state._copy_node`): a scalar engine's graph holds one node
    per multiplication."""
    import numpy as np

    from backprop_doctor.conventions._param_objects import holder_names

    if isinstance(value, type) or not (callable(getattr(value, "backward", None)) or holder_names(value) is not None):
        return None
    for name in NUMBER_NAMES:
        held = getattr(value, name, None)
        if isinstance(held, np.ndarray) and held_number(held) is not None:
            return held_number(held)
        if isinstance(held, (float, np.floating)):
            return float(held)
    return None


def _made(cls: type, expression: str, x: float) -> Any:
    """A value of the class holding `x`: a number, or a 1 × 1 matrix for a matrix product (`MATRIX`)."""
    if MATRIX not in expression:
        return cls(x)
    import numpy as np

    return cls(np.array([[x]]))


def check_engine(cls: type) -> list[OpCheck]:
    """Every expression of `EXPRESSIONS` the class can evaluate, with both gradients of each input."""
    results = []
    for expression, method, inputs, kind in EXPRESSIONS:
        if kind == "op" and method not in _defined(cls):
            continue
        check = OpCheck(cls.__name__, expression, method, kind)
        try:
            values = {name: _made(cls, expression, x) for name, x in POINT.items()}
            out = eval(expression, {}, values)  # noqa: S307 - our own expressions, on the user's class
            if not isinstance(out, cls):
                continue
            out.backward()
            check.analytic = {name: _float(values[name].grad) for name in inputs}
            check.numerical = {name: _slope(cls, expression, name) for name in inputs}
        except Exception:  # noqa: BLE001 - an operation the class does not have, or that raises
            continue
        if all(math.isfinite(v) for v in (*check.analytic.values(), *check.numerical.values())):
            if kind == "op" and not check.wrong:
                check.assigned = _overwritten(cls, expression, inputs, check.analytic)
            results.append(check)
    return results


EARLIER = 10.0  # the gradient an input holds from an earlier use when the closure runs


def _overwritten(cls: type, expression: str, inputs: tuple[str, ...], local: dict[str, float]) -> list[str]:
    """Inputs whose gradient the output's own `_backward` closure sets instead of adding to: with
    `EARLIER` already in their `grad`, one call leaves the local gradient alone, not the sum."""
    try:
        values = {name: _made(cls, expression, x) for name, x in POINT.items()}
        out = eval(expression, {}, values)  # noqa: S307 - our own expressions, on the user's class
        closure = getattr(out, "_backward", None) or _closure_of(out)  # micrograd's `_backward`, or `_grad_fn`, `backward_fn`
        if not callable(closure):
            return []
        for name in inputs:
            values[name].grad = _like(values[name].grad, EARLIER)
        out.grad = _like(getattr(out, "grad", None), 1.0)
        closure()
        got = {name: _float(values[name].grad) for name in inputs}
    except Exception:  # noqa: BLE001 - a closure that cannot be called on its own
        return []
    scale = {name: max(abs(local[name]), 1.0) for name in inputs}
    return [
        name for name in inputs
        if abs(got[name] - (EARLIER + local[name])) > TOLERANCE * (EARLIER + scale[name]) and abs(got[name] - local[name]) <= TOLERANCE * scale[name]
    ]  # fmt: skip


def _like(grad: Any, number: float) -> Any:
    """`number` in the form the engine keeps a gradient in: a float, or an array of the gradient's shape
    (an array engine's 1 × 1 matrix, whose `out.grad @ other.data.T` a float could not take)."""
    import numpy as np

    if isinstance(grad, np.ndarray) and grad.ndim > 0:
        return np.full(grad.shape, number)
    return number


def _closure_of(out: Any) -> Any:
    """The one function an operation's output holds that closes over the operation's values (the
    closure its `backward` calls, however named: `_grad_fn`, `backward_fn`); None when not one."""
    import types

    found = [v for v in vars(out).values() if isinstance(v, types.FunctionType) and v.__closure__]
    return found[0] if len(found) == 1 else None


def _float(value: Any) -> float:
    found = held_number(value)
    if found is None:
        raise TypeError(f"not one number: {type(value).__name__}")
    return found


def _defined(cls: type) -> set[str]:
    return {name for klass in cls.__mro__ if klass is not object for name in vars(klass)}


def _slope(cls: type, expression: str, name: str) -> float:
    """d out.data / d name, by central difference on fresh values."""

    number = number_attribute(cls(POINT["a"])) or "data"

    def at(shift: float) -> float:
        values = {n: _made(cls, expression, x + (shift if n == name else 0.0)) for n, x in POINT.items()}
        return _float(getattr(eval(expression, {}, values), number))  # noqa: S307 - our own expressions

    return (at(STEP) - at(-STEP)) / (2 * STEP)
