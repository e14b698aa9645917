"""cs231n (2015) model functions: `two_layer_net(X, model, y=None, reg=0.0) -> (loss, grads)`.

The first cs231n assignments wrote a network as one function over a dictionary
of parameters: without `y` it returns the class scores, with it the loss and a
dictionary of gradients keyed like the model. The model comes from an
`init_two_layer_model(input_size, hidden_size, output_size)` in the same file,
or, when the file has none (it lived in another file of the course), is built
from the keys the function reads: `W1` of shape (D, H), `b1` of shape (H,), row
per sample.

Example:
    def two_layer_net(X, model, y=None, reg=0.0):
        W1, b1, W2, b2 = model["W1"], model["b1"], model["W2"], model["b2"]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        ...
        return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

Recognised by: a function whose first three arguments are `X`, the model
(`model`, `params`, `parameters`, `weights`) and `y` with the default None;
confirmed by a trial call that returns `(loss, dict)`. Gradients live in that
dictionary, under the model's own keys.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.static.methods import numbered_layers

NAME = "model-functions"
KIND = "function"
ORDER = 34
MODELS = ("model", "params", "parameters", "weights")
SMALL: dict[str, Any] = {
    "input_size": 12, "input_dim": 12, "hidden_size": 8, "hidden_dim": 8, "output_size": 4, "num_classes": 4,
    "input_shape": (3, 8, 8), "num_filters": 4, "filter_size": 3, "weight_scale": 0.1, "bias_scale": 0.1,
}  # fmt: skip
REG = 0.1
WIDTHS = (12, 8, 6, 5, 7)  # input, then hidden widths; the last layer has 4 classes


def _signature(f: Any) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return []


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[Any]:
    found = []
    for f in functions.values():
        params = _signature(f)
        if (
            len(params) >= 3
            and params[0].name.lower() == "x"
            and params[1].name.lower() in MODELS
            and params[2].name.lower() == "y"
            and params[2].default is None
        ):
            found.append(f)
    return found


def label(f: Any) -> str:
    return f.__name__


class ModelFunction(Adapter):
    """`f(X, model, y, reg)` seen as a loss layer: forward is the loss, backward the grads it returned."""

    def __init__(self, func: Any, model: dict[str, Any], reg: float | None):
        super().__init__(name=func.__name__, kind="model-function", target=func, is_loss=True)
        self._func, self._model, self._reg = func, model, reg
        self.dout_is_input = False
        self._grads: dict[str, Any] = {}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self._model.items() if is_float_array(v)}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        args = (x, self._model, t) if self._reg is None else (x, self._model, t, self._reg)
        loss, grads = self._func(*args)
        self._grads = dict(grads) if isinstance(grads, dict) else {}
        return loss

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, dict(self._grads)

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return (f"grads['{param}']", f'grads["{param}"]', "grads")


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+|\d+", name.lower())) - {"init", "initialize", "model", "net", "make"}


def _from_initialiser(func: Any, functions: dict[str, Any]) -> dict[str, Any] | None:
    """The model an `init...` function of the file builds, with small sizes (its own defaults when it
    refuses them: `num_filters` as a tuple); the one whose name shares the most words with `func`'s
    (`init_two_layer_model` for `two_layer_net`). Raises `build.UserCodeRaised` when the
    initialiser fails whatever its arguments (a size made with Python 2's `/`)."""
    from backprop_doctor import build as builder

    inits = [f for n, f in functions.items() if n.lower().startswith("init") and f is not func]
    inits.sort(key=lambda f: -len(_words(f.__name__) & _words(func.__name__)))
    for init in inits:
        if any(a not in SMALL for a in required_inputs(init)):
            continue
        small = {p.name: SMALL[p.name] for p in _signature(init) if p.name in SMALL}
        for kwargs in (small, {}) if small and not required_inputs(init) else (small,):
            try:
                model = init(**kwargs)
            except Exception as error:
                raised = builder._raised(f"{init.__name__}() raised {type(error).__name__}: {error}", error)
                if isinstance(raised, builder.UserCodeRaised):
                    raise raised from error
                continue
            if isinstance(model, dict) and any(is_float_array(v) for v in model.values()):
                return {k: np.array(v, dtype=np.float64) if is_float_array(v) else v for k, v in model.items()}
    return None


def _from_keys(func: Any, rng: np.random.Generator) -> dict[str, Any] | None:
    """`W1`..`WL`, `b1`..`bL` the function reads from the model, row per sample; None for other keys."""
    count = numbered_layers(function_node(func), (_signature(func)[1].name,))
    if not 0 < count <= len(WIDTHS):
        return None
    widths = (*WIDTHS[:count], SMALL["num_classes"])
    model: dict[str, Any] = {}
    for i in range(1, count + 1):
        model[f"W{i}"] = rng.standard_normal((widths[i - 1], widths[i])) * np.sqrt(2.0 / widths[i - 1])
        model[f"b{i}"] = 0.1 * rng.standard_normal(widths[i])
    return model


def build(func: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    namespace = context.namespace or {}
    # the file's own functions, and those of the module that defines `func` (its initialiser, when the
    # file imports only the model function: `from cs231n.classifiers.convnet import five_layer_convnet`)
    functions = {n: f for n, f in {**func.__globals__, **namespace}.items() if inspect.isfunction(f) and f.__module__ == func.__module__}
    np.random.seed(context.options.seed)
    model = _from_initialiser(func, functions)
    guessed = model is None
    if guessed:
        model = _from_keys(func, rng)
    if model is None:
        raise NotChecked("no init...(...) function to build its model with, and it reads keys other than W1, b1, ...")
    arrays = [v for v in model.values() if is_float_array(v)]
    first = arrays[0]
    shape = SMALL["input_shape"] if first.ndim == 4 else (first.shape[0],)
    n = max(context.options.batch_size, 6)
    x = rng.standard_normal((n, *shape))
    y = rng.integers(0, SMALL["num_classes"], n)
    reg = REG if len(_signature(func)) >= 4 and _signature(func)[3].name.lower().startswith("reg") else None
    adapter = ModelFunction(func, model, reg)
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        with np.errstate(all="ignore"):
            result = func(x.copy(), {k: np.copy(v) for k, v in model.items()}, y.copy(), *(() if reg is None else (reg,)))
    except Exception as error:
        from backprop_doctor import build as builder

        if (missing := builder.unimportable_name(error)) is not None:
            raise NotChecked(f"it uses `{missing}`, {builder.unimportable_reason(error, missing)}") from None
        if guessed:  # the guess did not fit; the file's own model would have been reported
            raise NotChecked(f"a trial `{func.__name__}(X, model, y)` on X {x.shape} raised {type(error).__name__}: {error}") from None
        result = (0.0, {})  # the engine reports what the user's code raises, at its line
    finally:
        np.random.set_state(state)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise NotChecked(f"`{func.__name__}(X, model, y)` does not return (loss, grads)")
    return [Case(f"x {x.shape}, labels {y.shape}" + ("" if reg is None else f", reg {reg}"), adapter, x, y)]
