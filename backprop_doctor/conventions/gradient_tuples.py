"""A gradient function over weights handed in one tuple or list, beside a loss function taking the same arguments.

Example:
    def forward(params, X):
        W1, b1, W2, b2 = params
        h = np.tanh(X @ W1 + b1)
        return h @ W2 + b2, h

    def loss(params, X, Y):
        out, _ = forward(params, X)
        return np.mean((out - Y) ** 2)

    def gradients(params, X, Y):
        W1, b1, W2, b2 = params
        out, h = forward(params, X)
        dout = 2 * (out - Y) / out.size
        dW2 = h.T @ dout
        ...
        return dW1, db1, dW2, db2          # or a list, in the order of `params`

    params = (W1, b1, W2, b2)
    for step in range(300):
        g = gradients(params, X, Y)
        params = tuple(p - lr * gi for p, gi in zip(params, g))

Recognised by: a function that unpacks one of its arguments into several weights
(`W1, b1, W2, b2 = params`, `static.gradient_returns.unpacked_lists`) and returns gradients only, no
loss: names that spell those weights (`dW1`, `grad_b1`), else as many values as it unpacks, taken by
position (the i-th gradient belongs to the i-th weight); beside a function of the same file taking the
same arguments, named like a loss (`loss`, `cost`, `mse`, `objective`), that returns one number. Built
on the program's own call (the observed run records the tuple as it was handed over), else on the
first call a function of the file that takes no argument makes. Each returned gradient must have its
weight's shape. Gradients: each compared with the derivative of the loss function's number. Weights in
a tuple are handed on as a tuple, in a list as a list. When the file's training loop calls the gradient
function and the replay measured that loop's step, the replay's comparison stands for this one.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._classlayer import function_node
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.conventions.loss_gradient_functions import (
    DRIVE_SHARE,
    LossAndGradientsFunction,
    _arguments,
    _as_input,
    _callers,
    _fits,
    _is_data,
    _replayed,
    _required,
    _roles,
    _weights_of,
)
from backprop_doctor.static.gradient_returns import Gradient, LossAndGradients, calls_by_name, gradients_returned, loss_and_gradients, unpacked_lists

NAME = "gradient-tuples"
KIND = "function"
ORDER = 37  # beside `loss-and-gradients`, which takes the functions returning their loss too

_LOSS_NAME = re.compile(r"(?i)loss|cost|mse|sse|nll|objective|error|risk|entropy|likelihood|energy")


def _layout(f: Any) -> LossAndGradients | None:
    """Where the gradients are in what `f` returns (its loss at 0, its return's values at 1, by index),
    when it unpacks one argument into weights and returns their gradients and no loss."""
    node = function_node(f)
    if node is None:
        return None
    unpacked = unpacked_lists(node)
    arguments = {u.argument for u in unpacked}
    if len(unpacked) < 2 or len(arguments) != 1:
        return None
    names = {u.name for u in unpacked}
    if loss_and_gradients(node, names) is not None:
        return None  # `return loss, (dW1, db1)`: `loss-and-gradients`
    by_name = gradients_returned(node, names)
    returned = _returned_names(node)
    if by_name is not None and all(g.param in names for g in by_name.gradients):
        # `return dW1, db1, ...` (a tuple: positions), `return [dW1, ...]` / `grads = [...]` (a list: keys)
        gradients = tuple(Gradient(1, g.key if isinstance(g.key, int) else g.position, g.name, g.param) for g in by_name.gradients)
    elif returned is not None and len(returned) == len(unpacked):
        gradients = tuple(Gradient(1, i, n, u.name) for i, (n, u) in enumerate(zip(returned, unpacked)))  # by position
    else:
        return None
    params = [g.param for g in gradients]
    if len(set(params)) != len(params) or len(gradients) < 2:
        return None
    taken = {u.name: u for u in unpacked}
    return LossAndGradients(0, gradients, 2, tuple(taken[p] for p in params))


def _returned_names(node: Any) -> list[str] | None:
    """The values of the last return's tuple or list (`return g1, g2`, `return [g1, g2]`), each a name or as written."""
    import ast

    from backprop_doctor.static.gradient_returns import _bound_lists, _own

    returns = [n for n in _own(node) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    value = returns[-1].value
    if isinstance(value, ast.Name):  # `out = [g3, g4, g1, g2]` then `return out`
        value = _bound_lists(node).get(value.id, value)
    if not isinstance(value, (ast.Tuple, ast.List)) or any(isinstance(e, ast.Starred) for e in value.elts):
        return None
    return [e.id if isinstance(e, ast.Name) else ast.unparse(e) for e in value.elts]  # `return X.T @ r, r.sum(axis=0)`: as written


def _loss_twin(f: Any, functions: dict[str, Any]) -> Any | None:
    """The function of `f`'s file named like a loss that takes the same required arguments (case aside)."""
    mine = [n.lower() for n in _arguments(f) if n in _required(f)]
    found = []
    for name, g in functions.items():
        if g is f or not inspect.isfunction(g) or not _LOSS_NAME.search(name) or getattr(g, "__code__", None) is None:
            continue
        if g.__code__.co_filename != f.__code__.co_filename:
            continue
        theirs = [n.lower() for n in _arguments(g) if n in _required(g)]
        if theirs == mine:
            found.append(g)
    return found[0] if len(found) == 1 else None


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[Any]:
    found = []
    for f in functions.values():
        if not inspect.isfunction(f) or _layout(f) is None:
            continue
        if _loss_twin(f, functions) is not None:
            found.append(f)
    return found


def label(f: Any) -> str:
    return f.__name__


class GradientTupleFunction(LossAndGradientsFunction):
    """The loss function's number as the loss, the gradient function's values as the gradients, both
    called on the same arguments; the weights handed anew in the tuple (or list) each call."""

    def __init__(
        self, func: Any, loss: Any, layout: LossAndGradients, values: dict[str, Any], weights: dict[str, np.ndarray], data: str | None, targets: str | None,
        missing: dict[str, Any] | None = None,
    ):
        super().__init__(func, layout, values, weights, data, targets, missing)
        self._loss = loss

    def _invoke(self, arguments: list[Any]) -> Any:
        return self._loss(*_shared(self._func, self._loss, arguments)), self._func(*arguments)

    def forward_target(self) -> Any:
        """The file's function the gradient function runs its forward pass through (`out, (X, h1) = forward(params, X)`),
        whose values (`h1`) its intermediate gradients (`dh1`) are named after; the gradient function itself otherwise."""
        return _forward_of(self._func) or self._func


def _shared(func: Any, loss: Any, arguments: list[Any]) -> list[Any]:
    """The leading `arguments` of `func` that `loss` takes at the same places under the same names (case aside):
    its required ones, and a setting both take (`reg`), never one only the gradient function has."""
    shared = []
    for mine, theirs, value in zip(_arguments(func), _arguments(loss), arguments):
        if mine.lower() != theirs.lower():
            break
        shared.append(value)
    return shared


def _forward_of(func: Any) -> Any | None:
    """The one function of `func`'s file that `func` calls and that binds a name whose gradient `func` binds (`h1` of `dh1`)."""
    import ast

    from backprop_doctor.static.gradient_returns import _own
    from backprop_doctor.static.methods import plain_calls

    node = function_node(func)
    if node is None:
        return None
    bound = {t.id for n in _own(node) if isinstance(n, ast.Assign) for target in n.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    found = []
    for name in dict.fromkeys(c for c, _ in plain_calls(node)):
        g = func.__globals__.get(name)
        if g is func or not inspect.isfunction(g) or getattr(g, "__code__", None) is None or g.__code__.co_filename != func.__code__.co_filename:
            continue
        other = function_node(g)
        theirs = {t.id for n in _own(other) if isinstance(n, ast.Assign) for target in n.targets for t in ast.walk(target) if isinstance(t, ast.Name)} if other is not None else set()
        if any(f"d{n}" in bound or f"d_{n}" in bound or f"grad_{n}" in bound for n in theirs):
            found.append(g)
    return found[0] if len(found) == 1 else None


SAMPLES_KEPT = 16  # of the program's batch: the intermediate gradients measured to name a wrong stage stay few


def _cut(func: Any, loss: Any, values: dict[str, Any], data: str | None, targets: str | None) -> dict[str, Any] | None:
    """`values` with the data and the targets cut to their first `SAMPLES_KEPT` samples (along the axis they share), when
    both are arrays holding more and no function involved reads a number or an array of the module (`n = len(X)` as a
    global would then count the whole batch); None otherwise."""
    from backprop_doctor.static.gradient_returns import globals_read

    x, t = values.get(data), values.get(targets)
    if not (isinstance(x, np.ndarray) and isinstance(t, np.ndarray) and x.ndim >= 1 and t.ndim >= 1):
        return None
    axis = 0 if x.shape[0] == t.shape[0] else -1 if x.shape[-1] == t.shape[-1] else None
    if axis is None or x.shape[axis] <= SAMPLES_KEPT:
        return None
    for f in _reached(func, loss):
        for name in globals_read(function_node(f)):
            held = f.__globals__.get(name)
            if isinstance(held, (np.ndarray, int, float, np.number)) and not isinstance(held, bool):
                return None
    cut = dict(values)
    cut[data] = np.take(x, np.arange(SAMPLES_KEPT), axis=axis)
    cut[targets] = np.take(t, np.arange(SAMPLES_KEPT), axis=axis)
    return cut


def _reached(*roots: Any) -> list[Any]:
    """`roots` and the functions of their file they call, and those call, by plain name."""
    from backprop_doctor.static.methods import plain_calls

    seen: dict[int, Any] = {}
    stack = list(roots)
    while stack:
        f = stack.pop()
        if id(f) in seen or not inspect.isfunction(f) or getattr(f, "__code__", None) is None:
            continue
        seen[id(f)] = f
        for name, _ in plain_calls(function_node(f)):
            g = f.__globals__.get(name)
            if inspect.isfunction(g) and getattr(g, "__code__", None) is not None and g.__code__.co_filename == roots[0].__code__.co_filename:
                stack.append(g)
    return list(seen.values())


def _missing(func: Any, loss: Any, context: Any) -> dict[str, Any]:
    """The globals the functions involved read that loading the definitions did not set and the program's observed run did
    (`N = len(X)` at the top level)."""
    from backprop_doctor.static.gradient_returns import globals_read

    ran = getattr(context, "extras", {}).get("observed_namespace") or {}
    return {n: ran[n] for f in _reached(func, loss) for n in globals_read(function_node(f)) if n not in f.__globals__ and n in ran}


def _called(func: Any, loss: Any, layout: LossAndGradients, values: dict[str, Any], how: str, missing: dict[str, Any]) -> Case | None:
    _, data, targets = _roles(func, layout, passed=[n for n, v in values.items() if not _is_data(v)])
    cut = _cut(func, loss, values, data, targets) if not missing else None  # a module's number only the run set: maybe a count of the data
    if cut is not None:
        case = _called_on(func, loss, layout, cut, data, targets, f"{how}, its first {SAMPLES_KEPT} samples", missing)
        if case is not None:
            return case
    return _called_on(func, loss, layout, values, data, targets, how, missing)


def _called_on(
    func: Any, loss: Any, layout: LossAndGradients, values: dict[str, Any], data: str | None, targets: str | None, how: str, missing: dict[str, Any]
) -> Case | None:
    weights = _weights_of(layout, values, {})
    if weights is None:
        return None
    adapter = GradientTupleFunction(func, loss, layout, values, weights, data, targets, missing)
    if not _fits(func, layout, adapter):
        return None
    listed = layout.unpacked[0].argument
    shown = ", ".join(f"{n} {np.shape(v)}" for n, v in values.items() if isinstance(v, np.ndarray))
    held = f"`{listed}` ({len(values[listed])} arrays)"
    return Case(f"{held}, {shown} {how}" if shown else f"{held} {how}", adapter, _as_input(values.get(data)), _as_input(values.get(targets)))


def build(func: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor.conventions._run import program_calls
    from backprop_doctor.observe import budget
    from backprop_doctor.observe.first_call import first_call
    from backprop_doctor.observe.record import TooLarge

    layout = _layout(func)
    functions = {n: v for n, v in func.__globals__.items() if inspect.isfunction(v)}
    loss = _loss_twin(func, functions)
    if layout is None or loss is None:
        raise NotChecked(f"`{func.__name__}` no longer returns the gradients of the weights it unpacks", quiet=True)
    source = getattr(context, "source", None)
    steps = source.facts.training_steps if source is not None and getattr(source, "tree", None) is not None else []
    if any(calls_by_name(step.loop, func.__name__) and _replayed(step, context) for step in steps):
        raise NotChecked(f"`{func.__name__}` is called by your training loop, whose step is checked")
    names = _arguments(func)
    missing = _missing(func, loss, context)
    for call in program_calls(context, func)[:3]:
        if len(call.args) < len([n for n in names if n in _required(func)]) or any(isinstance(a, TooLarge) for a in call.args):
            continue
        case = _called(func, loss, layout, dict(zip(names, call.args)), f"as your program called it (line {call.line}), against `{loss.__name__}`", missing)
        if case is not None:
            return [case]
    stopped: list[str] = []
    options = getattr(context, "options", None)
    for driver in _callers(func)[:2]:
        reached = first_call(driver, func, names, budget.share(getattr(options, "run_budget", 10.0), DRIVE_SHARE), stopped)
        if reached is None:
            continue
        args, line = reached
        case = _called(func, loss, layout, dict(zip(names, args)), f"as `{driver.__name__}()` first calls it (line {line}), against `{loss.__name__}`", missing)
        if case is not None:
            return [case]
    listed = layout.unpacked[0].argument
    why = stopped[0] if stopped else "no run of your program called it"
    raise NotChecked(f"`{func.__name__}` takes its weights in one argument (`{listed}`) whose shapes only a call says: {why}")
