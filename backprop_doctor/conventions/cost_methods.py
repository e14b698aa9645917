"""A model class with a cost method and its derivative beside it: `costFunction(X, y)` and
`costFunctionPrime(X, y)` returning one gradient per weight, in the order the weights were made.

A popular video series on neural networks teaches it this way, and students keep the names:

Example:
    class Neural_Network:
        def __init__(self):
            self.W1 = np.random.randn(2, 3)
            self.W2 = np.random.randn(3, 1)

        def forward(self, X): ...

        def costFunction(self, X, y):
            self.yHat = self.forward(X)
            return 0.5 * sum((y - self.yHat) ** 2)

        def costFunctionPrime(self, X, y):
            self.yHat = self.forward(X)
            delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.z3))
            dJdW2 = np.dot(self.a2.T, delta3)
            delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.z2)
            dJdW1 = np.dot(X.T, delta2)
            return dJdW1, dJdW2

The weights are often trained by a minimiser (`scipy.optimize.minimize` through `getParams` and
`setParams`), so no update statement of the file trains them. Recognised by: a method named for a
cost (`cost`, `loss`, `error`, `objective` in its name) taking the data and the targets, and a method
of the same name with `Prime`, `Derivative`, `Grad` or `Gradient(s)` after it, taking the same;
confirmed on a built object by a trial call that returns a number, and gradients each of the shape of
a distinct weight the object holds, in the order it holds them. The object is the one the program
built, on the data its first call was given, when the program ran; otherwise one made here.
"""

from __future__ import annotations

import ast
import copy
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array, promote_to_float64
from backprop_doctor.conventions._classlayer import last_return, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked, program_instances

NAME = "cost-methods"
KIND = "class"
ORDER = 14

_COST = re.compile(r"(?i)cost|loss|error|objective")
_SUFFIX = re.compile(r"(?i)_?(prime|derivatives?|deriv|grads?|gradients?)")


def _pair(cls: type) -> tuple[str, str] | None:
    """(cost, derivative) method names, when the class has such a pair taking two inputs each."""
    methods = {name: value for name, value in vars(cls).items() if callable(value) and not name.startswith("__")}
    for name, cost in methods.items():
        if not _COST.search(name) or _SUFFIX.search(name.lower().replace(_COST.search(name).group(0).lower(), "", 1)):
            continue
        if len(required_inputs(cost)) != 2:
            continue
        for other, derivative in methods.items():
            if other.lower().startswith(name.lower()) and _SUFFIX.fullmatch(other[len(name) :]) and len(required_inputs(derivative)) == 2:
                return name, other
    return None


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return _pair(cls) is not None


def label(obj: Any) -> str:
    return obj.__name__


def _returned_names(func: Any) -> list[str | None]:
    """The names the last `return` of `func` lists (`return dJdW1, dJdW2`), None where it is no name."""
    returned = last_return(func)
    if not isinstance(returned, (ast.Tuple, ast.List)):
        return []
    return [e.id if isinstance(e, ast.Name) else None for e in returned.elts]


def _weights(model: Any) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(model).items() if is_float_array(v) and v.ndim >= 1}


def _matched(model: Any, grads: Any) -> list[str] | None:
    """The weight each gradient is for: the next weight of its shape, in the order the object holds them."""
    if not isinstance(grads, (tuple, list)) or not grads or not all(isinstance(g, np.ndarray) for g in grads):
        return None
    free = list(_weights(model).items())
    names = []
    for grad in grads:
        index = next((i for i, (_, w) in enumerate(free) if w.shape == grad.shape), None)
        if index is None:
            return None
        names.append(free.pop(index)[0])
    return names


def _number(value: Any) -> float | None:
    if value is None or np.size(value) != 1:
        return None
    try:
        found = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        return None
    return found if np.isfinite(found) else None


class CostMethods(Adapter):
    """The cost method as the loss; the derivative method's gradients, by the weight each is for."""

    def __init__(self, model: Any, name: str, cost: str, derivative: str, names: list[str]):
        super().__init__(name=name, kind="cost-methods", target=type(model), is_loss=True)
        self.model = model
        self.dout_is_input = False
        self._cost, self._derivative, self._names = cost, derivative, names
        self._inputs: tuple[Any, Any] = (None, None)
        self._returned = _returned_names(getattr(type(model), derivative))

    def params(self) -> dict[str, np.ndarray]:
        return {k: getattr(self.model, k) for k in self._names}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._inputs = (x, t)
        value = getattr(self.model, self._cost)(x, t)
        found = _number(value)
        return value if found is None else found

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        x, t = self._inputs
        grads = getattr(self.model, self._derivative)(x, t)
        if not isinstance(grads, (tuple, list)):
            return None, {}
        return None, dict(zip(self._names, grads))

    def backward_target(self) -> Any:
        return getattr(type(self.model), self._derivative)

    def forward_target(self) -> Any:
        return getattr(type(self.model), self._cost)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        index = self._names.index(param)
        returned = self._returned[index] if index < len(self._returned) else None
        return (returned,) if returned else (f"d{param}", f"dJd{param}")


def _trial(model: Any, cost: str, derivative: str, x: Any, t: Any) -> list[str] | None:
    """The weights the derivative's gradients are for, when a trial call on a copy gives a cost and them."""
    state = np.random.get_state()
    work = copy.deepcopy(model)
    try:
        np.random.seed(FORWARD_SEED)
        if _number(getattr(work, cost)(np.array(x, copy=True), t)) is None:
            return None
        return _matched(work, getattr(work, derivative)(np.array(x, copy=True), t))
    except Exception:  # noqa: BLE001 - user code: another input is tried
        return None
    finally:
        np.random.set_state(state)


def _observed(cls: type, context: Any, cost: str, derivative: str) -> tuple[Any, Any, Any, int | None] | None:
    """(a copy of the program's own object, its data, its targets, the line of the call) from the
    program's first call of the cost or its derivative on arrays."""
    for instance in program_instances(context, cls, cost):
        for method in (derivative, cost):
            call = next((c for c in instance.calls.get(method, []) if len(c.args) == 2 and all(isinstance(a, np.ndarray) for a in c.args)), None)
            if call is not None and call.args[0].dtype.kind in "fiu":
                model = copy.deepcopy(instance.state)
                promote_to_float64(model)
                return model, np.array(call.args[0], dtype=np.float64), call.args[1], call.line
    return None


def _targets(n: int, outputs: int, rng: np.random.Generator) -> list[np.ndarray]:
    labels = rng.integers(0, max(outputs, 2), n)
    return [rng.uniform(0.2, 0.8, (n, outputs)), np.eye(max(outputs, 2))[labels][:, :outputs], labels]


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    pair = _pair(cls)
    if pair is None:
        raise NotChecked("not a class with a cost method and its derivative")
    cost, derivative = pair
    seen = _observed(cls, context, cost, derivative)
    if seen is not None:
        model, x, t, line = seen
        names = _trial(model, cost, derivative, x, t)
        if names:
            where = f": your program's own `{derivative}` call (line {line})" if line else ""
            return [Case(f"x {x.shape}, t {np.shape(t)}{where}", CostMethods(model, cls.__name__, cost, derivative, names), x, t)]
    kwargs = builder.infer_kwargs(cls, rng)
    np.random.seed(context.options.seed)
    model = builder.made(cls, rng, kwargs)
    promote_to_float64(model)
    weights = [w for w in _weights(model).values() if w.ndim == 2]
    if not weights:
        raise NotChecked(f"`{cls.__name__}` holds no weight matrix for `{derivative}` to differentiate")
    n = max(int(context.options.batch_size), 2)
    x = rng.uniform(0.0, 1.0, (n, weights[0].shape[0]))
    for t in _targets(n, weights[-1].shape[-1], rng):
        names = _trial(model, cost, derivative, x, t)
        if names:
            return [Case(f"x {x.shape}, t {t.shape}", CostMethods(model, cls.__name__, cost, derivative, names), x, t)]
    raise NotChecked(f"`{derivative}` did not return one gradient per weight of `{cls.__name__}` on any input tried")
