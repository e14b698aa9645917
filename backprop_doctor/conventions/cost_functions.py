"""Cost functions that return the cost and its gradient: `costFunction(theta, X, y) -> (J, grad)`.

Andrew Ng's machine-learning course, ported to Python, has its students write the cost of a model
and its gradient together, for a minimiser (`scipy.optimize.minimize(..., jac=True)`) to train:
logistic regression, regularised or not, one-vs-all, the two-layer network whose weights are
unrolled into one vector, regularised linear regression.

Example:
    def costFunctionReg(theta, X, y, lambda_):
        m = y.size
        h = sigmoid(X.dot(theta))
        J = -(y.dot(np.log(h)) + (1 - y).dot(np.log(1 - h))) / m + lambda_ / (2 * m) * np.sum(theta[1:] ** 2)
        grad = X.T.dot(h - y) / m
        grad[1:] += lambda_ / m * theta[1:]
        return J, grad

Also `nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_)`.
No update statement trains them (the minimiser does), so the replay of a training step never sees
them. Recognised by: a function whose name says cost or loss, whose every required argument is
one the course gives it (the parameters, `theta` or `nn_params`; the data `X`; the targets `y`; a
regularisation strength `lambda_`; the network's sizes), with the parameters and the data among
them; confirmed by a trial call that returns `(scalar, grad)` with grad as many numbers as the
parameters. Checked with the regularisation strength at 0.1, so a penalty the gradient forgets
shows. cs231n's `loss(W, X, y, reg)` has its own convention (`cs231n_linear`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_doctor.conventions._base import Adapter
from backprop_doctor.conventions._classlayer import last_return, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "cost-function"
KIND = "function"
ORDER = 36

SAMPLES, FEATURES, HIDDEN, LABELS, REG = 8, 3, 5, 3, 0.1  # three columns: the intercept and two features, as in the course

_PARAMS = {"theta", "thetas", "nn_params", "params", "nnparams", "initial_theta", "w", "weights"}
_DATA = {"x", "x_train", "xtrain", "features"}
_TARGETS = {"y", "y_train", "ytrain", "labels", "targets", "target"}
_REG = {"lambda", "lambda_", "lmbda", "lam", "lamb", "lambd", "reg", "reg_lambda", "l2"}
_SIZES = {
    "input_layer_size": FEATURES, "n_input": FEATURES,
    "hidden_layer_size": HIDDEN, "n_hidden": HIDDEN,
    "num_labels": LABELS, "num_classes": LABELS, "n_labels": LABELS,
}  # fmt: skip


def _role(name: str) -> str | None:
    low = name.lower()
    if low in _PARAMS:
        return "params"
    if low in _DATA:
        return "data"
    if low in _TARGETS:
        return "targets"
    if low in _REG:
        return "reg"
    return "size" if low in _SIZES else None


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[Any]:
    found = []
    for name, f in functions.items():
        if not any(word in name.lower() for word in ("cost", "loss")) or not _returns_a_pair(f):
            continue
        names = required_inputs(f)
        roles = [_role(n) for n in names]
        if None in roles or roles.count("params") != 1 or roles.count("data") != 1 or roles.count("targets") > 1:
            continue
        if len(names) == 4 and "loss" in name.lower() and names[0].lower() in ("w", "weights", "theta") and names[1].lower() == "x":
            continue  # cs231n's `softmax_loss_naive(W, X, y, reg)`
        found.append(f)
    return found


def label(f: Any) -> str:
    return f.__name__


def _returns_a_pair(func: Any) -> bool:
    """Whether the function's last `return` gives two values (`return J, grad`): a cost alone
    (`computeCost(X, y, theta)`) is not a cost with its gradient."""
    import ast

    returned = last_return(func)
    return isinstance(returned, ast.Tuple) and len(returned.elts) == 2


def _parts(names: list[str], values: dict[str, Any], theta: np.ndarray) -> list[tuple[str, slice, tuple[int, int]]]:
    """The two weight matrices a network's unrolled parameters hold, as the course unrolls them:
    `Theta1` (hidden × inputs + 1) first, then `Theta2` (labels × hidden + 1); [] for any other function."""
    sizes = {k: v for k, v in ((n.lower(), values.get(n)) for n in names if _role(n) == "size") if isinstance(v, (int, np.integer))}
    inputs = next((sizes[k] for k in ("input_layer_size", "n_input") if k in sizes), None)
    hidden = next((sizes[k] for k in ("hidden_layer_size", "n_hidden") if k in sizes), None)
    labels = next((sizes[k] for k in ("num_labels", "num_classes", "n_labels") if k in sizes), None)
    if inputs is None or hidden is None or labels is None:
        return []
    first = hidden * (inputs + 1)
    if theta.ndim != 1 or theta.size != first + labels * (hidden + 1):
        return []
    return [("Theta1", slice(0, first), (hidden, inputs + 1)), ("Theta2", slice(first, theta.size), (labels, hidden + 1))]


class CostFunction(Adapter):
    """The cost as the loss, the parameters as the one parameter; the data and targets as its input.
    A network's unrolled weights are two parameters, `Theta1` and `Theta2` (views of the one vector the
    function is given), so a wrong gradient is told apart and found where its own part is computed."""

    def __init__(self, func: Any, names: list[str], values: dict[str, Any], params: str):
        super().__init__(name=func.__name__, kind="loss-function", target=func, is_loss=True)
        self._func, self._names, self._values, self._params = func, names, values, params
        self.dout_is_input = False
        self._grad: Any = None
        self._parts = _parts(names, values, values[params])
        self.whole_assignments = True  # a penalty added to part of a gradient later is not where the gradient is computed

    def params(self) -> dict[str, np.ndarray]:
        theta = self._values[self._params]
        if self._parts:
            return {name: theta[part].reshape(shape) for name, part, shape in self._parts}
        return {self._params: theta}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        values = {**self._values, **{n: x for n in self._names if _role(n) == "data"}, **{n: t for n in self._names if _role(n) == "targets"}}
        cost, grad = self._func(*(values[n] for n in self._names))
        theta = self._values[self._params]
        self._grad = np.reshape(grad, theta.shape) if np.size(grad) == theta.size else grad
        return cost

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        if self._parts and self._grad is not None and np.size(self._grad) == self._values[self._params].size:
            flat = np.ravel(self._grad)
            return None, {name: flat[part].reshape(shape) for name, part, shape in self._parts}
        return None, {self._params: self._grad}

    def grad_targets(self, param: str) -> tuple[str, ...]:
        if param in ("Theta1", "Theta2"):  # where that part of the gradient is computed, before it is unrolled
            k = param[-1]
            return (f"Theta{k}_grad", f"theta{k}_grad", f"Theta{k}_gradient", f"theta{k}_gradient", f"Theta{k}grad", f"grad{k}", f"D{k}")
        return ("grad", "gradient", "dtheta", "d_theta", "theta_grad")


def build(func: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    """The first layout whose trial call returns (cost, grad with as many numbers as the parameters):
    0/1 targets, then integer labels; a vector of parameters, then a column."""
    names = required_inputs(func)
    observed = _observed(func, names, context)
    if observed is not None:
        return [observed]
    network = any(_role(n) == "size" for n in names)
    size = HIDDEN * (FEATURES + 1) + LABELS * (HIDDEN + 1) if network else FEATURES
    X = rng.standard_normal((SAMPLES, FEATURES))
    X[:, 0] = 1.0  # the course's intercept column (harmless for a network, which adds its own)
    binary = (X[:, 1] + X[:, 2] > 0).astype(np.float64)
    labels = rng.integers(0, LABELS, SAMPLES)
    layouts = [(labels, (size,))] if network else [(binary, (size,)), (labels.astype(np.float64), (size,)), (binary[:, None], (size, 1))]
    for targets, shape in layouts:
        theta = 0.3 * rng.standard_normal(shape)
        values: dict[str, Any] = {}
        for n in names:
            role = _role(n)
            values[n] = theta if role == "params" else X if role == "data" else targets if role == "targets" else REG if role == "reg" else _SIZES.get(n.lower())
        returned = _returns_cost_and_gradient(func, names, values, theta)
        if returned is not None and _not_written(*returned):
            raise NotChecked(f"`{func.__name__}` returns a cost of 0 and a gradient of zeros: it is not written yet")
        if returned is not None:
            params = next(n for n in names if _role(n) == "params")
            what = "unrolled weights" if network else "theta"
            return [Case(f"{what} {theta.shape}, X {X.shape}, y {np.shape(targets)}, regularisation {REG}", CostFunction(func, names, values, params), X, targets)]
    raise NotChecked(f"`{func.__name__}` does not return (cost, gradient) on theta and X {X.shape}")


def _observed(func: Any, names: list[str], context: Any) -> Case | None:
    """The program's own call, when it made one whose arguments were kept: its data, its sizes and
    its parameters (a loop over `range(3)` written for the course's three parameters is right there)."""
    from backprop_doctor.observe.record import TooLarge

    record = getattr(context, "extras", {}).get("observed_record")
    calls = next((f.calls for f in getattr(record, "functions", []) if f.func is func or getattr(f.func, "__name__", None) == func.__name__), [])
    for call in calls:
        if len(call.args) < len(names) or any(isinstance(a, TooLarge) for a in call.args):
            continue
        try:
            values = {n: (np.array(a, dtype=np.float64) if _role(n) == "params" else np.array(a) if isinstance(a, np.ndarray) else a) for n, a in zip(names, call.args)}
        except (TypeError, ValueError):
            continue  # `params = [W1, b1, W2, b2]`, arrays of different shapes: no one vector of parameters
        params = next(n for n in names if _role(n) == "params")
        theta = values[params]
        if theta.dtype != np.float64 or theta.size == 0:
            continue
        returned = _returns_cost_and_gradient(func, names, values, theta)
        if returned is None or _not_written(*returned):
            continue
        data = next(values[n] for n in names if _role(n) == "data")
        targets = next((values[n] for n in names if _role(n) == "targets"), None)
        shown = ", ".join(f"{n} {np.shape(values[n])}" for n in names if isinstance(values[n], np.ndarray))
        return Case(f"{shown} as your program called it (line {call.line})", CostFunction(func, names, values, params), data, targets)
    return None


def _returns_cost_and_gradient(func: Any, names: list[str], values: dict[str, Any], theta: np.ndarray) -> tuple[Any, np.ndarray] | None:
    """(cost, grad) of a trial call, when it gives a finite scalar and as many numbers as theta."""
    from backprop_doctor.build import _trial  # a trial run of user code, NumPy's global RNG seeded and restored

    result = _trial(lambda: func(*(v.copy() if isinstance(v, np.ndarray) else v for v in (values[n] for n in names))))
    if not (isinstance(result, tuple) and len(result) == 2):
        return None
    cost, grad = result
    fits = np.size(cost) == 1 and np.isfinite(np.asarray(cost, dtype=np.float64)).all() and isinstance(grad, np.ndarray) and grad.size == theta.size
    return (cost, grad) if fits else None


def _not_written(cost: Any, grad: np.ndarray) -> bool:
    """The course's template as handed out: `J = 0` and `grad = np.zeros(theta.shape)`, returned as
    they are; a gradient of zeros is the right one of a constant cost, so the check would pass."""
    return float(np.asarray(cost, dtype=np.float64)) == 0.0 and not np.any(grad)
