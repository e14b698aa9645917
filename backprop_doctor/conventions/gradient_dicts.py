"""Function pairs whose backward returns a dictionary of gradients (the course's recurrent cells).

The Coursera "Building a Recurrent Neural Network - Step by Step" layout: one
column per sample, time last. `rnn_cell_forward(xt, a_prev, parameters)`
returns `(a_next, yt_pred, cache)` and `rnn_cell_backward(da_next, cache)` the
dictionary `{"dxt": ..., "da_prev": ..., "dWax": ..., "dWaa": ..., "dba": ...}`;
`rnn_forward(x, a0, parameters)` runs it over `x` of shape (n_x, m, T_x) and
`rnn_backward(da, caches)` takes the upstream gradient of every hidden state;
the LSTM versions carry a cell state too (`lstm_cell_backward(da_next,
dc_next, cache)`).

Example:
    def rnn_cell_forward(xt, a_prev, parameters):
        a_next = np.tanh(parameters["Waa"] @ a_prev + parameters["Wax"] @ xt + parameters["ba"])
        yt_pred = softmax(parameters["Wya"] @ a_next + parameters["by"])
        return a_next, yt_pred, (a_next, a_prev, xt, parameters)

    def rnn_cell_backward(da_next, cache):
        a_next, a_prev, xt, parameters = cache
        dz = da_next * (1 - a_next ** 2)
        return {"dxt": parameters["Wax"].T @ dz, "da_prev": parameters["Waa"].T @ dz,
                "dWax": dz @ xt.T, "dWaa": dz @ a_prev.T, "dba": dz.sum(axis=1, keepdims=True)}

Recognised by: a `name_forward` whose last argument is the parameters
dictionary, after the inputs, and a `name_backward` that takes one upstream
gradient per output it differentiates (`da_next`, `dc_next`) and the cache;
confirmed by a trial call on column-major inputs with the parameters the
forward asks for (`Wax` (n_a, n_x), `Wf` (n_a, n_a + n_x), `ba` (n_a, 1), ...).
Gradients: `d` + the name of each input and parameter in the returned
dictionary (`dxt`, `da_prev`, `dWax`); the outputs checked are those the
backward takes a gradient for, matched by name (`da_next` for `a_next`). A
parameter whose gradient is not returned (`Wya` of the prediction) is held
fixed. An unfinished exercise (a placeholder `None`) is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.static.methods import returned_names

NAME = "gradient-dicts"
KIND = "function"
ORDER = 34
PARAMS = ("parameters", "params", "parameter", "weights")
FORWARD = re.compile(r"^(?P<base>.+)_forward$")
N_X, N_A, N_Y, M, T = 3, 4, 2, 5, 3


def takes_upstream_gradients(backward: Callable) -> bool:
    """`backward(da_next, dc_next, cache)`: upstream gradients, then the cache."""
    names = [n.lower() for n in required_inputs(backward)]
    return len(names) >= 2 and names[-1].startswith("cache") and all(n.startswith("d") for n in names[:-1])


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    pairs = []
    for name, forward in functions.items():
        match = FORWARD.match(name)
        backward = functions.get(f"{match['base']}_backward") if match else None
        if backward is None:
            continue
        names = [n.lower() for n in required_inputs(forward)]
        if len(names) >= 2 and names[-1] in PARAMS and takes_upstream_gradients(backward):
            pairs.append((forward, backward))
    return pairs


def label(pair: tuple[Any, Any]) -> str:
    return f"{pair[0].__name__}/{pair[1].__name__}"


def _gradient_key(name: str, grads: dict[str, Any]) -> str | None:
    return next((k for k in (f"d{name}", f"d_{name}") if k in grads), None)


class GradientDictPair(Adapter):
    """forward(x, *states, parameters) -> (outputs..., cache); backward(d_outputs..., cache) -> {"dx": ...}."""

    def __init__(self, forward: Any, backward: Any, inputs: dict[str, np.ndarray], parameters: dict[str, Any], outputs: list[int], checked: list[str]):
        super().__init__(name=label((forward, backward)), kind="function-pair", target=forward)
        self._forward, self._backward = forward, backward
        self._first = next(iter(inputs))
        self._states = {k: v for k, v in inputs.items() if k != self._first}
        self._parameters = parameters
        self._outputs = outputs  # which values the forward returns are differentiated
        self._checked = checked  # the parameters whose gradients the backward returns
        self._shapes: list[tuple[int, ...]] = []
        self._cache: Any = None

    def params(self) -> dict[str, np.ndarray]:
        return {**self._states, **{k: self._parameters[k] for k in self._checked}}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        result = self._forward(x, *self._states.values(), dict(self._parameters))
        *values, self._cache = result
        chosen = [np.asarray(values[i], dtype=np.float64) for i in self._outputs]
        self._shapes = [c.shape for c in chosen]
        return chosen[0] if len(chosen) == 1 else np.concatenate([c.ravel() for c in chosen])

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        pieces, start = [], 0
        for shape in self._shapes:
            size = int(np.prod(shape))
            pieces.append(np.asarray(dout).ravel()[start:start + size].reshape(shape))
            start += size
        grads = self._backward(*pieces, self._cache)
        grads = grads if isinstance(grads, dict) else {}
        key = _gradient_key(self._first, grads) or _gradient_key("x", grads)
        return grads.get(key) if key else None, {k: grads.get(_gradient_key(k, grads) or f"d{k}") for k in self.params()}

    def backward_target(self) -> Any:
        return self._backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return (f"d{param}", f"d_{param}")

    def input_grad_targets(self) -> tuple[str, ...]:
        return (f"d{self._first}", "dx", "dxt")


# --------------------------------------------------------------------------- building


def _parameter_shape(key: str) -> tuple[int, ...]:
    """The course's parameter names: `Wax` (n_a, n_x), `Waa` (n_a, n_a), `Wya` (n_y, n_a), the
    LSTM gates `Wf` (n_a, n_a + n_x), biases (n_a, 1) and `by` (n_y, 1)."""
    low = key.lower()
    if low.startswith("b"):
        return (N_Y, 1) if low == "by" else (N_A, 1)
    if low in ("wax", "wxh", "wx", "u"):
        return (N_A, N_X)
    if low in ("waa", "whh", "wh", "w"):
        return (N_A, N_A)
    if low.startswith("wy") or low in ("why", "v"):
        return (N_Y, N_A)
    return (N_A, N_A + N_X)  # a gate over the stacked [a_prev; xt]


class _Asked(dict):
    """A parameters dictionary that records the first key the forward asks for and lacks."""

    missing: str | None = None

    def __missing__(self, key: Any) -> Any:
        self.missing = key
        raise KeyError(key)


def _call(func: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        return func(), None
    except Exception as error:  # noqa: BLE001 - user code; the caller decides
        return None, error
    finally:
        np.random.set_state(state)


def _placeholder(error: BaseException | None, value: Any) -> bool:
    """An unfinished exercise: a `None` where an array belongs (`dx = None`, `n_a, m = None`)."""
    if error is not None:
        return isinstance(error, (TypeError, AttributeError)) and "NoneType" in str(error)
    values = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, tuple) else [value]
    return any(v is None for v in values)


def _never_assigned(func: Any, error: BaseException) -> bool:
    """An exercise whose body was left out: the function returns a name it never computes."""
    name = getattr(error, "name", None)
    return isinstance(error, NameError) and bool(name) and name in returned_names(function_node(func))


def _unfinished(func: Any, error: BaseException | None, value: Any) -> NotChecked:
    from backprop_doctor import build, locate

    where = build._user_line(error) if error is not None else None
    if error is not None and _never_assigned(func, error):
        return build.Unsupported(
            f"`{func.__name__}` is not finished: it returns `{error.name}` without computing it"  # type: ignore[attr-defined]
            + (f" (line {where.line})" if where is not None and where.line else "")
            + "; complete it to have it checked"
        )
    if where is None or where.line is None:
        names = returned_names(function_node(func))
        if isinstance(value, dict):
            names = [k for k, v in value.items() if v is None]
        where = locate.assignment(func, *[n for n in names if n] or ["gradients"])
    line = f" (line {where.line})" if where is not None and where.line else ""
    return build.Unsupported(f"`{func.__name__}` is not finished: it still has a `None` placeholder{line}; complete it to have it checked")


def _inputs(forward: Callable, rng: np.random.Generator, sequence: bool) -> dict[str, np.ndarray]:
    names = required_inputs(forward)[:-1]
    first = (N_X, M, T) if sequence else (N_X, M)
    return {n: rng.standard_normal(first if i == 0 else (N_A, M)) for i, n in enumerate(names)}


def _parameters(forward: Callable, inputs: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[dict[str, Any], Any, BaseException | None]:
    asked = _Asked()
    for _ in range(24):
        asked.missing = None
        result, error = _call(lambda: forward(*[v.copy() for v in inputs.values()], asked))
        if asked.missing is None or asked.missing in asked:
            return dict(asked), result, error
        asked[asked.missing] = 0.5 * rng.standard_normal(_parameter_shape(str(asked.missing)))
    return dict(asked), None, KeyError("too many parameters")


def _outputs(forward: Callable, backward: Callable, count: int) -> list[int]:
    upstream = [n.lower() for n in required_inputs(backward)[:-1]]
    returned = [n.lower() for n in returned_names(function_node(forward))][:count]
    chosen = [returned.index(n[1:]) for n in upstream if n[1:] in returned]
    return chosen if len(chosen) == len(upstream) else list(range(len(upstream)))


def build(pair: tuple[Any, Any], context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    forward, backward = pair
    np.random.seed(context.options.seed)
    errors: list[BaseException] = []
    for sequence in (False, True) if "cell" in forward.__name__.lower() else (True, False):
        inputs = _inputs(forward, rng, sequence)
        parameters, result, error = _parameters(forward, inputs, rng)
        if error is None and isinstance(result, tuple) and len(result) >= 2:
            break
        errors += [error] if error is not None else []
    else:
        # the shape tried first is the one the names suggest: its error is the telling one
        for error in errors:
            if _placeholder(error, None) or _never_assigned(forward, error):
                raise _unfinished(forward, error, None)
            if missing := builder.unimportable_name(error):
                raise builder.Unsupported(f"`{forward.__name__}` uses `{missing}`, {builder.unimportable_reason(error, missing)}")
        first = errors[0] if errors else None
        raise NotChecked(f"no column-major input tried runs through `{forward.__name__}`" + (f" ({type(first).__name__}: {first})" if first else ""))
    if _placeholder(None, result):
        raise _unfinished(forward, None, result)
    outputs = _outputs(forward, backward, len(result) - 1)
    if any(i >= len(result) - 1 or not is_float_array(np.asarray(result[i])) for i in outputs):
        raise NotChecked(f"`{forward.__name__}` does not return the arrays `{backward.__name__}` takes gradients of")
    pieces = [rng.standard_normal(np.shape(result[i])) for i in outputs]
    grads, error = _call(lambda: backward(*pieces, result[-1]))
    if _placeholder(error, grads):
        raise _unfinished(backward, error, grads)
    if error is not None:
        return _case(forward, backward, inputs, parameters, outputs, list(parameters))  # the engine reports it at its line
    if not isinstance(grads, dict):
        raise NotChecked(f"`{backward.__name__}` returns {type(grads).__name__}, not a dictionary of gradients")
    checked = [k for k, v in parameters.items() if is_float_array(v) and _gradient_key(k, grads)]
    return _case(forward, backward, inputs, parameters, outputs, checked)


def _case(forward: Any, backward: Any, inputs: dict[str, np.ndarray], parameters: dict[str, Any], outputs: list[int], checked: list[str]) -> list[Case]:
    adapter = GradientDictPair(forward, backward, inputs, parameters, outputs, checked)
    x = inputs[next(iter(inputs))]
    shapes = ", ".join(f"{k} {v.shape}" for k, v in inputs.items())
    return [Case(f"{shapes} (one column per sample)", adapter, x)]
