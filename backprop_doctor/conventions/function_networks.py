"""Networks written as plain functions over a dictionary of parameters (deeplearning.ai style).

`initialize_parameters(n_x, n_h, n_y)` returns `{"W1": ..., "b1": ...}`;
`forward_propagation(X, parameters)` returns the output and a cache, over
column-major data (`X` of shape (n_x, m), `Y` of shape (n_y, m));
`compute_cost(A2, Y)` the scalar cost; `backward_propagation(parameters, cache,
X, Y)` a dictionary `{"dW1": ..., "db1": ...}` (or the tuple `dW1, db1, ...`).
Argument orders vary, so arguments are passed by their names.

Example:
    def forward_propagation(X, parameters):
        Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
        A1 = np.tanh(Z1)
        Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
        A2 = sigmoid(Z2)
        return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

    def backward_propagation(parameters, cache, X, Y):
        m = X.shape[1]
        dZ2 = cache["A2"] - Y
        dW2 = np.dot(dZ2, cache["A1"].T) / m
        ...
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

Recognised by: a function whose name says forward (`forward_propagation`,
`L_model_forward`, `f_propagation`, `forward_prop`) taking `X` and the parameters,
with a partner whose name says backward the same way; confirmed by building
the parameters with the file's initialiser and a trial forward. A network written one
function per file (`from initialize import *`, `from compute_cost import *` beside `from forward
import *`) has its initialiser and its cost taken from those modules of the checked file's folder. Gradients live
in what the backward returns, `dW1` for `W1`. The cost is the file's own
`compute_cost(A, Y)` when it has one, else the mean binary cross-entropy.

The course's character-level language model is one too: `initialize_parameters(n_a, n_x, n_y)`
(`Wax`, `Waa`, `Wya`, `b`, `by`), `rnn_forward(X, Y, a0, parameters, vocab_size=27)` returning
`(loss, cache)` over lists of token indices, `rnn_backward(X, Y, parameters, cache)` returning
`(gradients, a)`: built with `n_y = n_x`, its weights redrawn at unit gain (`_sequence_case`).
"""

from __future__ import annotations

import ast

import copy
import inspect
import os
import re
import sys
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array, parameters
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.conventions.gradient_dicts import takes_upstream_gradients
from backprop_doctor.static.methods import numbered_layers, returned_names

NAME = "function-networks"
KIND = "function"
ORDER = 36
FORWARD = re.compile(r"^(?P<pre>.*?)(?P<word>forward|f)_?(?P<post>prop\w*|pass|propagation)?$", re.IGNORECASE)
PARAMS = ("parameters", "params", "weights", "parameter")
SIZES = {"n_x": 5, "n_h": 4, "n_a": 4, "n_y": 1, "input_size": 5, "hidden_size": 4, "output_size": 1, "nx": 5, "nh": 4, "ny": 1}
SCALARS = {"keep_prob": 0.8, "lambd": 0.1, "lambda_": 0.1, "reg": 0.1}
HIDDEN = (5, 3, 4, 6, 5, 4, 3)  # the widths of synthesised hidden layers, in order


def _backward_names(name: str) -> list[str]:
    low = name
    out = []
    for a, b in (("forward", "backward"), ("Forward", "Backward"), ("forward", "back"), ("f_", "b_"), ("fwd", "bwd")):
        if a in low:
            out.append(low.replace(a, b, 1))
    return out


def _is_params(name: str, keyed: frozenset[str] = frozenset()) -> bool:
    """`parameters`, `params`, `weights`, and `params_values` (SkalskiP's plain-NumPy network); any of `keyed`, the
    arguments the forward reads entries of under its layers' keys (`net["W" + str(l)]`: `_keyed_arguments`)."""
    low = name.lower()
    return low in PARAMS or low.startswith("params_") or low.startswith("param_values") or name in keyed or low in keyed


_LAYER_KEY = re.compile(r"[WwBb]\d*")


def _keyed_arguments(func: Any) -> frozenset[str]:
    """The arguments a function reads entries of under a layer's weight or bias key, however the dict is called:
    `net` of `net["W" + str(l)]`, `model` of `model["b2"]`, `theta` of `theta[f"W{l}"]`."""
    from backprop_doctor.static.updates import key_stem

    try:
        node = function_node(func)
    except Exception:  # noqa: BLE001 - a function whose source cannot be read
        return frozenset()
    arguments = set(parameters(func))
    return frozenset(
        n.value.id for n in ast.walk(node)
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in arguments
        and (stem := key_stem(n.slice)) is not None and _LAYER_KEY.fullmatch(stem)
    )  # fmt: skip


_OUTPUTS = ("al", "a2", "a3", "a", "y_hat", "yhat", "output", "a_last", "al_")  # the forward's output, by the backward's name for it


def _handed_all(backward: Any, keyed: frozenset[str]) -> bool:
    """Whether `FunctionNetwork._call` hands `backward` every argument it must be given: the parameters, the data and
    targets, the forward's output (`AL`) and cache (`caches`), a known scalar (`keep_prob`), the architecture. A
    backward that takes the forward's other values by their own names (`backward(X, Y, p, A1, A2)` of a forward that
    returns `A1, A2`) is written another way: what its forward returns first need not be the output."""
    names = list(parameters(backward))
    required = set(required_inputs(backward))
    for position, name in enumerate(names):
        low = name.lower()
        if not (
            _is_params(low, keyed) or _is_architecture(low) or low in ("x", "y", "cache") or low in SCALARS
            or low.startswith(("cache", "caches", "memory")) or low in _OUTPUTS
        ):  # fmt: skip
            return not required & set(names[position:])  # `_call` stops here: what follows must have defaults
    return True


def _is_architecture(name: str) -> bool:
    return "architecture" in name.lower() or name.lower() in ("arch", "layers_config", "layer_config")


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    pairs = []
    for name, f in functions.items():
        args = [a.lower() for a in parameters(f)]
        keyed = _keyed_arguments(f)
        if not ("forward" in name.lower() or name.lower().startswith("f_prop")) or "x" not in args or not any(_is_params(a, keyed) for a in args):
            continue
        # a dict recognised by the keys the forward reads alone (`p["W1"]`), not by its name: only with a backward
        # that takes what the convention hands it (`backward(AL, Y, caches)`, not `backward(X, Y, p, A1, A2)`)
        named = any(_is_params(a) for a in args)
        backward = next((functions[b] for b in _backward_names(name) if b in functions), None)
        if backward is not None and not takes_upstream_gradients(backward) and (named or _handed_all(backward, keyed)):  # see gradient_dicts
            pairs.append((f, backward))
        for variant in _variants(name, functions):  # `backward_propagation_with_regularization` of the plain forward
            if not takes_upstream_gradients(functions[variant]) and (named or _handed_all(functions[variant], keyed)):
                pairs.append((f, functions[variant]))
    return pairs + _course_forwards(functions, namespace)


def _course_forwards(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    """A student's `backward_propagation_with_regularization` whose forward is the course's own
    `forward_propagation`, imported from its helper module (real, or backprop-doctor's stand-in)."""
    forward = namespace.get("forward_propagation")
    if not callable(forward) or "forward_propagation" in functions:
        return []
    return [
        (forward, f) for name, f in sorted(functions.items())
        if name.startswith("backward_propagation_with_") and f"forward_propagation{name[len('backward_propagation'):]}" not in functions
        and "test" not in name and len(required_inputs(f)) >= 3 and not takes_upstream_gradients(f)
    ]  # fmt: skip  (not the course's `backward_propagation_with_regularization_test_case()`)


def _variants(name: str, functions: dict[str, Any]) -> list[str]:
    """Backward passes named after the forward with a suffix of their own (`backward_propagation_with_
    regularization`) when no forward carries that suffix: the course's regularisation exercise
    changes the backward and the cost, and keeps the forward."""
    out = []
    for base in _backward_names(name):
        for other in sorted(functions):
            suffix = other[len(base) :]
            if other.startswith(base + "_") and name + suffix not in functions and "test" not in suffix and len(required_inputs(functions[other])) >= 3:
                out.append(other)
    return out


def _cost_of(backward: Any, functions: dict[str, Any]) -> Any:
    """The cost a backward differentiates: `compute_cost_with_regularization` for
    `backward_propagation_with_regularization`, else the file's two-argument cost."""
    suffix = re.search(r"(_with_\w+)$", backward.__name__)
    if suffix is not None:
        named = next((f for n, f in functions.items() if re.search(r"cost|loss", n, re.IGNORECASE) and n.endswith(suffix[1])), None)
        if named is not None:
            return named
    return next((f for n, f in functions.items() if re.search(r"cost|loss", n, re.IGNORECASE) and len(required_inputs(f)) == 2), None)


_TARGET_NAMES = ("y", "t", "labels", "targets", "y_true", "ytrue", "target", "label", "y_train", "train_y")


def _reconstructs(backward: Any, cost: Any) -> bool:
    """Whether the pair is an autoencoder's: the backward takes the input (`X`) and no targets, and the
    cost, when there is one, takes the input where targets go (`compute_cost(A2, X)`)."""
    names = [p.lower() for p in parameters(backward)]
    if "x" not in names or any(n in _TARGET_NAMES for n in names):
        return False
    if cost is None:
        return True
    costs = [p.lower() for p in parameters(cost)]
    return len(costs) >= 2 and costs[1] == "x" and not any(n in _TARGET_NAMES for n in costs)


def label(pair: tuple[Any, Any]) -> str:
    return f"{pair[0].__name__}/{pair[1].__name__}"


def _returned_names(func: Any) -> list[str]:
    """`return dW1, db1, dW2, db2` → those names."""
    return returned_names(function_node(func))


class FunctionNetwork(Adapter):
    def __init__(self, name: str, forward: Any, backward: Any, cost: Any, params: dict[str, np.ndarray], extra: dict[str, Any]):
        super().__init__(name=name, kind="function-network", target=forward, is_loss=True, batch_axis=-1)
        self._forward, self._backward, self._cost = forward, backward, cost
        self._params, self._extra = params, extra
        self._keyed = _keyed_arguments(forward)  # `net` of `forward(X, net)`: the parameters, whatever their name
        self.dout_is_input = False
        self._state: dict[str, Any] = {}

    def params(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self._params.items() if is_float_array(v)}

    def _call(self, func: Any, values: dict[str, Any]) -> Any:
        args = []
        for name in parameters(func):
            low = name.lower()
            if _is_params(low, self._keyed):
                args.append(self._params)
            elif _is_architecture(low) and "architecture" in values:
                args.append(values["architecture"])
            elif low in values:
                args.append(values[low])
            elif low in SCALARS:
                args.append(SCALARS[low])
            elif low.startswith(("cache", "caches", "memory")):
                args.append(values["cache"])
            elif low in _OUTPUTS:
                args.append(values["a"])
            else:
                break  # an argument with a default: leave it
        return func(*args)

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        result = self._call(self._forward, {"x": x, **self._extra})
        a, cache = (result[0], result[1]) if isinstance(result, tuple) else (result, None)
        self._state = {"x": x.copy(), "y": t, "a": a, "cache": cache, **self._extra}
        if cache is not None and np.ndim(a) == 0:  # `cost, cache = forward_propagation_n(X, Y, parameters)`
            return float(a)
        if self._cost is not None:
            if len(required_inputs(self._cost)) == 2:
                return float(np.squeeze(self._cost(a, t)))
            return float(np.squeeze(self._call(self._cost, self._state)))  # `compute_cost_with_regularization(A3, Y, parameters, lambd)`
        m = t.shape[1]
        return float(-np.sum(t * np.log(a) + (1 - t) * np.log(1 - a)) / m)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        grads = self._call(self._backward, dict(self._state))
        if isinstance(grads, tuple) and grads and isinstance(grads[0], dict) and any(f"d{k}" in grads[0] for k in self.params()):
            grads = grads[0]  # `return gradients, a`: the dictionary beside the states
        if isinstance(grads, tuple):
            grads = dict(zip(_returned_names(self._backward), grads))
        grads = grads if isinstance(grads, dict) else {}
        return None, {k: grads.get(f"d{k}", grads.get(f"d_{k}")) for k in self.params()}

    def backward_target(self) -> Any:
        return self._backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        stem = param.rstrip("0123456789")  # `grads["db" + str(n)]` in a loop over the layers
        return (f"d{param}", f"grads['d{param}']", f'grads["d{param}"]', f"['d{stem}' +]", "grads")


ARCHITECTURE = (
    {"input_dim": 4, "output_dim": 5, "activation": "relu"},
    {"input_dim": 5, "output_dim": 3, "activation": "relu"},
    {"input_dim": 3, "output_dim": 1, "activation": "sigmoid"},
)  # `nn_architecture` of a network whose layers are a list of dictionaries (SkalskiP's layout)


def _layers_read(forward: Any) -> int:
    """How many numbered layers the forward reads by literal keys (`parameters["W2"]`: 2); 0 when it
    reads them by computed keys (`"W" + str(l)`) or not at all."""
    names = tuple(a for a in parameters(forward) if _is_params(a, _keyed_arguments(forward)))
    try:
        return numbered_layers(function_node(forward), names)
    except Exception:  # noqa: BLE001 - a forward whose source cannot be read
        return 0


def _initial(functions: dict[str, Any], layers: int = 0, outputs: int = 1, strict: bool = False) -> dict[str, np.ndarray]:
    """The file's own initialiser called with sizes its arguments name; a list of layer sizes as
    deep as the forward reads (`layers`), three layers when it does not say; `outputs` units out
    (the program's own, when its source shows them: a softmax over one unit is constant). `strict`
    (an initialiser from another file beside it) takes only parameters that are all float arrays
    with no weight matrix of zeros (not an exercise's unfinished or all-zero initialiser)."""
    dims = [5, *HIDDEN[: layers - 1], outputs] if 0 < layers <= len(HIDDEN) + 1 else [5, 4, 3, outputs]
    for name, f in functions.items():
        if "init" not in name.lower():
            continue
        args = required_inputs(f)
        try:
            if len(args) == 1 and _is_architecture(args[0]):
                params = f([dict(layer) for layer in ARCHITECTURE])
            elif len(args) == 1 and ("dim" in args[0].lower() or "size" in args[0].lower() or "layer" in args[0].lower()):
                params = f(list(dims))
            elif args and all(a.lower() in SIZES for a in args):
                # `initialize_parameters(n_a, n_x, n_y)`: a recurrent state's size, a model predicting its next input
                out = SIZES["n_x"] if "n_a" in {a.lower() for a in args} else outputs
                params = f(*[out if a.lower() in _OUTPUT_SIZES else SIZES[a.lower()] for a in args])
            else:
                continue
        except Exception:
            continue
        if strict and not (isinstance(params, dict) and all(is_float_array(v) and (not k.startswith("W") or v.any()) for k, v in params.items())):
            continue
        if isinstance(params, dict) and any(k.startswith("W") for k in params):
            return {k: np.array(v, dtype=np.float64) if is_float_array(np.asarray(v)) else v for k, v in params.items()}
    raise NotChecked("no initialize_parameters(...) function to build the parameters with")


_OUTPUT_SIZES = frozenset({"n_y", "ny", "output_size"})


def _written_outputs(tree: ast.AST, functions: set[str]) -> int:
    """The last size of the list of layer sizes the file hands its initialiser: `layers_dims = [2, 32, 3]`
    then `initialize_parameters_deep(layers_dims)` (through a function's parameter of the same name), or
    the list written in the call; 1 when the file does not show one."""
    handed: set[str] = set()
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args):
        name = ast.unparse(call.func).rpartition(".")[2]
        if "init" in name.lower() and name in functions:
            first = call.args[0]
            if isinstance(first, ast.List) and first.elts and isinstance(first.elts[-1], ast.Constant) and type(first.elts[-1].value) is int:
                return max(first.elts[-1].value, 1)
            if isinstance(first, ast.Name):
                handed.add(first.id)
    sizes = [
        n.value.elts[-1].value for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id in handed for t in n.targets)
        and isinstance(n.value, ast.List) and n.value.elts and isinstance(n.value.elts[-1], ast.Constant) and type(n.value.elts[-1].value) is int
    ]  # fmt: skip
    return max(sizes[0], 1) if len(set(sizes)) == 1 else 1


def _from_keys(forward: Any) -> list[dict[str, np.ndarray]]:
    """Parameters the forward reads by literal keys (`parameters["W1"]` ... `parameters["b3"]`),
    for a file whose initialiser lives elsewhere: one guess per output width (1, then 3),
    column-major as the convention is (`W1` of shape (n_h, n_x), `b1` of shape (n_h, 1)).
    Empty when the forward reads any other key (a `gamma`, a `keep_prob` in the dictionary)
    or its layers are not numbered 1 to L with a weight and a bias each."""
    names = tuple(a for a in parameters(forward) if _is_params(a, _keyed_arguments(forward)))
    count = numbered_layers(function_node(forward), names)
    if not 0 < count <= len(HIDDEN) + 1:
        return []
    rng = np.random.default_rng(FORWARD_SEED)
    guesses = []
    for n_y in (1, 3):
        widths = (4, *HIDDEN[: count - 1], n_y)
        params: dict[str, np.ndarray] = {}
        for i in range(1, count + 1):
            params[f"W{i}"] = rng.standard_normal((widths[i], widths[i - 1])) * np.sqrt(2.0 / widths[i - 1])
            params[f"b{i}"] = rng.standard_normal((widths[i], 1)) * 0.1
        guesses.append(params)
    return guesses


def _case(pair: tuple[Any, Any], params: dict[str, np.ndarray], functions: dict[str, Any], rng: np.random.Generator) -> tuple[Case, Exception | None]:
    """The case for these parameters, and what a trial forward on it raised (None when it ran)."""
    forward, backward = pair
    weights = sorted((k for k in params if k.startswith("W") and k[1:].isdigit()), key=lambda k: int(k[1:]))
    if not weights:  # `initialize_parameters(n_a, n_x, n_y)` of a recurrent model: Wax, Waa, Wya, b, by
        return _sequence_case(pair, params, functions, rng)
    n_x, n_y = params[weights[0]].shape[1], params[weights[-1]].shape[0]
    m = 6
    x = rng.standard_normal((n_x, m))
    if n_y == 1:
        y = rng.integers(0, 2, (1, m)).astype(np.float64)
    else:
        y = np.eye(n_y)[rng.integers(0, n_y, m)].T.copy()
    cost = _cost_of(backward, functions)
    if _reconstructs(backward, cost) and n_x == n_y:
        # an autoencoder: its backward reads no targets but `X` (`dZ2 = (A2 - X) / m`), its cost compares the
        # output with `X` itself (`compute_cost(A2, X)`): the targets are the input, in (0, 1) for a cross-entropy
        x = rng.uniform(0.05, 0.95, (n_x, m))
        y = x.copy()
        extra_label = ", Y = X (the cost compares the output with the input)"
    else:
        extra_label = ""
    extra: dict[str, Any] = {"y": y}
    if any(_is_architecture(a) for a in parameters(forward)):
        extra["architecture"] = [dict(layer) for layer in ARCHITECTURE]
    adapter = FunctionNetwork(label(pair), forward, backward, cost, params, extra)
    state = np.random.get_state()
    raised = None
    trial = copy.deepcopy(adapter)
    try:
        np.random.seed(FORWARD_SEED)
        with np.errstate(all="ignore"):
            trial.forward(x.copy(), y)
    except Exception as error:
        raised = error
    finally:
        np.random.set_state(state)
    output = trial._state.get("a") if raised is None and cost is None else None
    if isinstance(output, np.ndarray) and output.dtype.kind == "f" and not ((output > 0) & (output < 1)).all():
        # no cost function, and no probability to take a cross-entropy of (a linear output for a
        # regression): the loss its backward belongs to is the one its training loop computes
        raise NotChecked("it has no cost function and its output is not a probability in (0, 1): its loss is its training loop's, checked there")
    label_text = f"X {x.shape} (one column per sample), Y {y.shape}{extra_label}"
    if raised is None and cost is not None and _smoothed(cost):
        exact = FunctionNetwork(label(pair), forward, backward, None, params, extra)
        yours, plain = _agreeing(adapter, x, y), _agreeing(exact, x, y)
        if yours is not None and plain is not None and plain > yours:
            # `get_cost_value(Y_hat, Y, eps=0.001)` smooths its logarithm; the backward differentiates
            # the exact cross-entropy: that is the loss its gradients are checked against
            adapter = exact
            label_text += f", loss: the exact cross-entropy (your `{cost.__name__}` adds its `eps` inside the log; the backward leaves it out)"
    return Case(label_text, adapter, x, y), raised


STATES = ("a0", "a_prev", "h0", "h_prev", "hprev", "a_0", "h_0")  # a recurrent model's start state


def _sequence_case(pair: tuple[Any, Any], params: dict[str, np.ndarray], functions: dict[str, Any], rng: np.random.Generator) -> tuple[Case, Exception | None]:
    """A recurrent model over token indices, the course's language model: `rnn_forward(X, Y, a0,
    parameters, vocab_size=27)` returning `(loss, cache)` with `rnn_backward(X, Y, parameters, cache)`
    returning the gradients' dictionary (beside the states): `X` a list of indices, `Y` the next
    ones, `a0` zeros of the one square weight's (`Waa`) size, the vocabulary the input weight's width."""
    forward, backward = pair
    names = {a.lower(): a for a in parameters(forward)}
    state = next((names[s] for s in STATES if s in names), None)
    keys = ", ".join(f"`{k}`" for k in params)
    square = [v for v in params.values() if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[0] == v.shape[1]]
    if state is None or len(square) != 1 or not {"x", "y"} <= set(names):
        raise NotChecked(f"its initialiser's parameters ({keys}) are not layers numbered `W1`, `b1`, ..., the only ones this convention makes data for yet")
    hidden = square[0].shape[0]
    inputs = [v.shape[1] for v in params.values() if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[0] == hidden and v.shape[1] not in (1, hidden)]
    outputs = [v.shape[0] for v in params.values() if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] == hidden and v.shape[0] != hidden]
    if len(inputs) != 1 or outputs != inputs:
        raise NotChecked(f"its parameters ({keys}) do not show one vocabulary read and predicted: not checked yet")
    vocab, steps = inputs[0], 5
    # the course's `0.01 * randn` leaves every state where tanh is the identity, and a backward that
    # leaves out its slope agrees there: weights of unit gain, at the initialiser's shapes
    params = {k: rng.standard_normal(v.shape) / np.sqrt(v.shape[1]) if is_float_array(v) and v.ndim == 2 and v.shape[1] > 1 else v for k, v in params.items()}
    x = [int(i) for i in rng.integers(0, vocab, steps)]
    y = x[1:] + [int(rng.integers(0, vocab))]
    extra: dict[str, Any] = {"y": y, state.lower(): np.zeros((hidden, 1))}
    extra.update({n: vocab for n in names if "vocab" in n})
    adapter = FunctionNetwork(label(pair), forward, backward, _cost_of(backward, functions), params, extra)
    raised = None
    try:
        with np.errstate(all="ignore"):
            copy.deepcopy(adapter).forward(list(x), y)
    except Exception as error:
        raised = error
    return Case(f"X: {steps} token indices of a vocabulary of {vocab}, Y the next ones, {state} zeros ({hidden}, 1)", adapter, x, y), raised


SLOPE_AGREES = 1e-5  # a gradient's slope along itself within this of the loss's belongs to that loss


def _smoothed(cost: Any) -> bool:
    """A cost with an `eps`/`epsilon` keyword whose default is positive (`log(Y_hat + eps)`)."""
    try:
        params = inspect.signature(cost).parameters
    except (TypeError, ValueError):
        return False
    return any(
        re.fullmatch(r"(?i)eps(ilon)?", name) and isinstance(p.default, (int, float)) and p.default > 0 for name, p in params.items()
    )


def _agreeing(adapter: FunctionNetwork, x: np.ndarray, y: np.ndarray) -> int | None:
    """How many parameters' gradients agree with the adapter's loss along themselves (relative slope
    error below `SLOPE_AGREES`), on a copy; None when they cannot be compared."""
    state = np.random.get_state()
    try:
        work = copy.deepcopy(adapter)
        with np.errstate(all="ignore"):
            np.random.seed(FORWARD_SEED)
            work.forward(x.copy(), y)
            _, grads = work.backward(None)
            params = work.params()
            if any(not isinstance(grads.get(k), np.ndarray) or grads[k].shape != v.shape for k, v in params.items()):
                return None
            agree = 0
            for k, v in params.items():
                g, original = grads[k].copy(), v.copy()
                analytic = float(np.sum(g * g))
                h = 1e-6 / max(np.sqrt(analytic), 1e-12)
                losses = []
                for sign in (1.0, -1.0):
                    v[...] = original + sign * h * g
                    np.random.seed(FORWARD_SEED)
                    losses.append(work.forward(x.copy(), y))
                v[...] = original
                numerical = (losses[0] - losses[1]) / (2 * h)
                agree += abs(numerical - analytic) <= SLOPE_AGREES * max(abs(numerical), abs(analytic), 1e-300)
        return agree
    except Exception:  # noqa: BLE001 - a loss that cannot be compared keeps the file's own
        return None
    finally:
        np.random.set_state(state)


BIAS_START = 0.1  # the scale of the biases a check starts from where the initialiser sets them to zero


def _off_zero(params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """The initialiser's parameters with its all-zero biases (`np.zeros((n, 1))`, the course's) set to
    small random values: a sample whose hidden units are all off reaches the next layer as zeros,
    and with a zero bias its pre-activation sits exactly on the ReLU's kink, where no central
    difference agrees with any gradient (a `gradient-at-kink` note on a correct network)."""
    rng = np.random.default_rng(seed)
    return {
        k: BIAS_START * rng.standard_normal(v.shape) if k.startswith("b") and isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size and not v.any() else v
        for k, v in params.items()
    }


def _beside(namespace: dict[str, Any], path: str | None) -> dict[str, Any]:
    """The functions of the namespace written in files of the checked file's own folder (the file
    itself and the modules it imports from beside it), by name."""
    if not path:
        return {}
    folder = os.path.dirname(os.path.abspath(path))
    found = {}
    for name, f in namespace.items():
        if not inspect.isfunction(f):
            continue
        try:
            where = inspect.getsourcefile(f)
        except TypeError:
            continue
        if where and os.path.dirname(os.path.abspath(where)) == folder:
            found[name] = f
    return found


def build(pair: tuple[Any, Any], context: Any, rng: np.random.Generator) -> list[Case]:
    forward, backward = pair
    namespace = context.namespace or {}
    modules = {forward.__module__, backward.__module__}  # the course's forward, the student's backward and cost
    functions = {n: f for n, f in namespace.items() if callable(f) and getattr(f, "__module__", None) in modules}
    if namespace.get(forward.__name__) is not forward:  # a forward from a sibling module (`loading.siblings`): its cost and initialiser beside it
        home = getattr(sys.modules.get(forward.__module__), "__dict__", {})
        functions.update({n: f for n, f in home.items() if inspect.isfunction(f) and f.__module__ == forward.__module__ and n not in functions})
    # the cost named after the backward's suffix, from a module of its own (`from compute_cost_with_regularization import *`
    # beside `from backward_propagation_with_regularization import *`): the cost that backward differentiates
    suffix = re.search(r"(_with_\w+)$", backward.__name__)
    if suffix is not None and not any(re.search(r"cost|loss", n, re.IGNORECASE) and n.endswith(suffix[1]) for n in functions):
        functions.update(
            {n: f for n, f in namespace.items() if inspect.isfunction(f) and re.search(r"cost|loss", n, re.IGNORECASE) and n.endswith(suffix[1])}
        )
        path = getattr(getattr(context, "source", None), "path", None)
        if path:  # the file imports none: `compute_cost_with_regularization.py` beside it (`loading.siblings`)
            from backprop_doctor.loading.siblings import variant_costs

            functions.update(variant_costs(path, suffix[1], functions))
    # a network written one function per file (`from initialize import *`, `from compute_cost import *`):
    # its cost and, when nothing else builds it, its initialiser come from modules of their own
    beside = _beside(namespace, getattr(getattr(context, "source", None), "path", None))
    if _cost_of(backward, functions) is None:
        cost = next(((n, f) for n, f in beside.items() if re.search(r"cost|loss", n, re.IGNORECASE) and len(required_inputs(f)) == 2), None)
        if cost is not None:
            functions[cost[0]] = cost[1]
    initialisers = {n: f for n, f in beside.items() if "init" in n.lower() and n not in functions}
    tree = getattr(getattr(context, "source", None), "tree", None)
    np.random.seed(context.options.seed)
    outputs = min(_written_outputs(tree, set(functions)), 10) if tree is not None else 1
    try:
        params = _initial(functions, _layers_read(forward), outputs)
    except NotChecked:
        guesses = _from_keys(forward)
        raised: Exception | None = None
        for guess in guesses:
            case, raised = _case(pair, guess, functions, rng)
            if raised is None:
                return [case]
        try:
            np.random.seed(context.options.seed)
            outputs = min(_written_outputs(tree, set(functions) | set(initialisers)), 10) if tree is not None else 1
            params = _initial(initialisers, _layers_read(forward), outputs, strict=True)
        except NotChecked:
            if not guesses:
                raise
            keys = ", ".join(guesses[0])
            raise NotChecked(f"no initialize_parameters(...) function, and {keys} guessed from the keys the forward reads did not fit it: {raised}") from None
    case, raised = _case(pair, _off_zero(params, context.options.seed), functions, rng)
    if isinstance(raised, AssertionError) and outputs != 1:
        # the forward's own `assert AL.shape == (1, m)`: a binary classifier, whatever widths the file's
        # test calls hand its initialiser; built again with one output unit
        np.random.seed(context.options.seed)
        try:
            one = _initial(functions, _layers_read(forward), 1)
        except NotChecked:
            one = None
        again = _case(pair, _off_zero(one, context.options.seed), functions, rng) if one is not None else None
        if again is not None and again[1] is None:
            case, raised = again
    if isinstance(raised, TypeError) and "argument" in str(raised):  # the arguments were not passed the way it takes them
        raise NotChecked(f"a trial forward on X {case.x.shape} raised TypeError: {raised}") from raised
    return [case]  # anything else the user's code raises, the engine reports at its line
