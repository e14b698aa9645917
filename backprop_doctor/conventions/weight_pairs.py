"""A forward and a backward function over one weight matrix handed to both (no parameter dictionary).

Example:
    def forward_propagation(x_batch, weights):
        z = x_batch @ weights
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def back_propagation(y_batch, probs, weights, x_batch):
        d_z = (probs - y_batch) / len(x_batch)
        d_weights = x_batch.T @ d_z
        d_x = d_z @ weights.T
        return d_weights, d_x

    def cross_entropy(probs, y):
        return -np.sum(y * np.log(probs)) / len(y)

A word2vec skip-gram or a softmax classifier written as two functions and a loss, trained by a loop
that holds the matrix. Recognised by: a function whose name says forward, taking data (`x`,
`x_batch`, `inputs`) and one weight argument, whose partner is named the backward way
(`back_propagation`, `backward_pass`) and returns the weight's gradient by name (`d_weights`,
`grad_W`, `dW`; `static.gradient_returns`), beside a loss function of the prediction and the
targets; not a network over a parameter dictionary (`function_networks`). Built on one-hot
targets, the matrix in either orientation (`x @ W` with a sample per row, `W @ x` with one per
column), the first that runs. Gradients: the weight's, against the file's loss of the forward's output.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter
from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.static.gradient_returns import LossAndGradients, gradients_returned

NAME = "weight-pairs"
KIND = "function"
ORDER = 38  # after `function-networks`, which takes the pairs over a parameter dictionary

FEATURES, CLASSES, SAMPLES = 4, 5, 6
_DATA = re.compile(r"(?i)^(x|x_?batch|x_?train|inputs?|data|batch|features|emb\w*|x_?emb\w*|h|a_?prev)$")
_TARGETS = re.compile(r"(?i)^(y|t|y_?batch|y_?train|targets?|labels?|y_?true|truth)$")
_WEIGHT = re.compile(r"(?i)^(w|weights?|w\d*|theta|kernel|matrix|w_\w+|weights_\w+)$")
_LOSS = re.compile(r"(?i)loss|cost|entropy")


def _partners(name: str) -> list[str]:
    out = []
    for a, b in (("forward", "backward"), ("forward", "back"), ("Forward", "Backward"), ("fwd", "bwd")):
        if a in name:
            out.append(name.replace(a, b, 1))
    return out


def _forward_roles(f: Any) -> tuple[str, str] | None:
    """(data, weight) argument names of a forward taking exactly those two."""
    names = required_inputs(f)
    if len(names) != 2:
        return None
    data = [n for n in names if _DATA.match(n)]
    weight = [n for n in names if _WEIGHT.match(n) and n not in data]
    return (data[0], weight[0]) if len(data) == 1 and len(weight) == 1 else None


def _gradient_of(backward: Any, weight: str) -> LossAndGradients | None:
    """Where the backward returns the weight's gradient (`return d_weights, d_x`)."""
    layout = gradients_returned(function_node(backward), {weight, *required_inputs(backward)})
    return layout if layout is not None and any(g.param == weight for g in layout.gradients) else None


def _loss_function(functions: dict[str, Any], exclude: set[int]) -> Any:
    """The file's loss of the prediction and the targets: named loss/cost, two required arguments."""
    return next(
        (f for n, f in sorted(functions.items()) if id(f) not in exclude and inspect.isfunction(f) and _LOSS.search(n) and len(required_inputs(f)) == 2),
        None,
    )


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    from backprop_doctor.conventions import function_networks

    taken = {(id(a), id(b)) for a, b in function_networks.recognise_functions(functions, namespace)}
    pairs = []
    for name, f in functions.items():
        if "forward" not in name.lower() and "fwd" not in name.lower() or not inspect.isfunction(f):
            continue
        roles = _forward_roles(f)
        if roles is None:
            continue
        for partner in _partners(name):
            backward = functions.get(partner)
            if backward is None or (id(f), id(backward)) in taken or not inspect.isfunction(backward):
                continue
            if roles[1] in required_inputs(backward) and _gradient_of(backward, roles[1]) is not None:
                if _loss_function(functions, {id(f), id(backward)}) is not None:
                    pairs.append((f, backward))
                break
    return pairs


def label(pair: tuple[Any, Any]) -> str:
    return f"{pair[0].__name__}/{pair[1].__name__}"


class WeightPair(Adapter):
    """The file's loss of the forward's output as the loss, the one weight as the parameter."""

    def __init__(self, forward: Any, backward: Any, loss: Any, weight: np.ndarray, roles: tuple[str, str], layout: LossAndGradients):
        super().__init__(name=label((forward, backward)), kind="function-network", target=forward, is_loss=True)
        self._forward, self._backward, self._loss = forward, backward, loss
        self._weight, self._roles, self._layout = weight, roles, layout
        self.dout_is_input = False
        self._state: dict[str, Any] = {}
        self.batch_axis = 0

    def params(self) -> dict[str, np.ndarray]:
        return {self._roles[1]: self._weight}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        data, weight = self._roles
        given = {data: x, weight: self._weight}
        out = self._forward(*(given[n] for n in required_inputs(self._forward)))
        self._state = {"x": x, "t": t, "out": out}
        return float(np.squeeze(self._loss(out, t)))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        data, weight = self._roles
        args = []
        for n in required_inputs(self._backward):
            if n == weight:
                args.append(self._weight)
            elif n == data or _DATA.match(n):
                args.append(self._state["x"])
            elif _TARGETS.match(n):
                args.append(self._state["t"])
            else:
                args.append(self._state["out"])  # the forward's output (`softmax`, `probs`, `y_hat`)
        result = self._backward(*args)
        result = result if isinstance(result, tuple) else (result,)
        grad = next((result[g.position] for g in self._layout.gradients if g.param == weight and g.key is None and g.position < len(result)), None)
        return None, {weight: grad}

    def backward_target(self) -> Any:
        return self._backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return tuple(g.name for g in self._layout.gradients if g.param == param) or (f"d{param}",)


def build(pair: tuple[Any, Any], context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor.build import _trial

    forward, backward = pair
    roles = _forward_roles(forward)
    layout = _gradient_of(backward, roles[1]) if roles is not None else None
    namespace = getattr(context, "namespace", None) or {}
    functions = {n: f for n, f in namespace.items() if inspect.isfunction(f) and getattr(f, "__module__", None) == forward.__module__}
    loss = _loss_function(functions, {id(forward), id(backward)})
    if roles is None or layout is None or loss is None:
        raise NotChecked(f"`{label(pair)}` no longer reads as a forward and a backward over one weight with a loss")
    local = np.random.default_rng(FORWARD_SEED)
    labels = local.integers(0, CLASSES, SAMPLES)
    for columns in (False, True):
        x = local.standard_normal((FEATURES, SAMPLES) if columns else (SAMPLES, FEATURES))
        y = np.eye(CLASSES)[labels]
        y = y.T.copy() if columns else y
        weight = 0.3 * local.standard_normal((CLASSES, FEATURES) if columns else (FEATURES, CLASSES))
        adapter = WeightPair(forward, backward, loss, weight, roles, layout)
        if columns:
            adapter.batch_axis = -1

        def trial(adapter: WeightPair = adapter, x: np.ndarray = x, y: np.ndarray = y) -> bool:
            np.random.seed(FORWARD_SEED)
            with np.errstate(all="ignore"):
                value = adapter.forward(x.copy(), y)
                _, grads = adapter.backward(None)
            grad = grads[roles[1]]
            return bool(np.isfinite(value)) and isinstance(grad, np.ndarray) and grad.shape == adapter.params()[roles[1]].shape

        if _trial(trial, default=False):
            layout_text = "one sample per column" if columns else "one sample per row"
            return [Case(f"{roles[0]} {x.shape} ({layout_text}), {roles[1]} {weight.shape}, one-hot targets {y.shape}, loss `{loss.__name__}`", adapter, x, y)]
    raise NotChecked(f"`{label(pair)}` did not run on a batch of rows or of columns with a weight matrix of either orientation")
