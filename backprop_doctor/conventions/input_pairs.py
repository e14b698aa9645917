"""A forward function and a backward function that takes the forward's inputs again, then the upstream gradient.

Example:
    def conv_forward(x, kernel):
        kh, kw = kernel.shape
        out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(x[i:i + kh, j:j + kw] * kernel)
        return out

    def conv_backward(x, kernel, d_out):
        d_kernel = np.zeros_like(kernel)
        for i in range(d_out.shape[0]):
            for j in range(d_out.shape[1]):
                d_kernel += x[i:i + kernel.shape[0], j:j + kernel.shape[1]] * d_out[i, j]
        return d_kernel

No cache: the backward recomputes what it needs from the inputs it is handed again
(`dense_backward(x, w, b, grad_out) -> (dx, dw, db)`). Recognised by: a function taking an
input and at least one more array (`conv_forward`, `forward_dense`, `conv2d`), whose partner
named the backward way (`conv_backward`, `backward_dense`, `conv2d_backward`) takes every one of those arguments by the same names and
one more, named like an upstream gradient (`d_out`, `dout`, `grad_output`, `delta`); not a
cs231n pair (`backward(dout, cache)`). Built on the program's own first call of the forward
(its arrays, as recorded), else on a batch of rows with a weight matrix and a bias. Gradients:
what the backward returns, matched to the arguments by name (`d_kernel` of `kernel`), else by
shape; a backward that returns no input gradient is checked for its parameters alone.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_float_array
from backprop_doctor.conventions._classlayer import function_node, required_inputs, returns_value
from backprop_doctor.conventions._run import Case, NotChecked, program_call

NAME = "input-pairs"
KIND = "function"
ORDER = 39

_UPSTREAM = re.compile(r"(?i)^(d_?(out|output|y|z|a|h|top|upstream|next)\w*|grad\w*|delta\w*|upstream\w*|dl_?d\w+|g_?out\w*|err\w*|dout\w*)$")
_TARGETS = re.compile(r"(?i)^(y|t|y_?batch|y_?train|targets?|labels?|y_?true|truth)$")


def _partners(name: str) -> list[str]:
    out = [f"{name}_backward"]  # `conv2d(x, kernel)` beside `conv2d_backward(x, kernel, dout)`
    for a, b in (("forward", "backward"), ("Forward", "Backward"), ("fwd", "bwd")):
        if a in name:
            out.append(name.replace(a, b, 1))
    return out


def _upstream_name(forward: Any, backward: Any) -> str | None:
    """The one argument the backward takes beyond the forward's (`d_out`), when it takes all of those."""
    given, taken = required_inputs(forward), required_inputs(backward)
    if len(given) < 2 or any(_TARGETS.match(n) for n in given) or not set(given) <= set(taken):
        return None
    extra = [n for n in taken if n not in given]
    return extra[0] if len(extra) == 1 and _UPSTREAM.match(extra[0]) else None


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[tuple[Any, Any]]:
    from backprop_doctor.conventions import cs231n

    pairs = []
    for name, f in functions.items():
        if not inspect.isfunction(f) or name.lower().endswith(("backward", "bwd")):
            continue
        for partner in _partners(name):
            backward = functions.get(partner)
            if not inspect.isfunction(backward) or cs231n.is_pair(f, backward):
                continue
            if _upstream_name(f, backward) is not None and returns_value(function_node(f)) and returns_value(function_node(backward)):
                pairs.append((f, backward))
                break
    return pairs


def label(pair: tuple[Any, Any]) -> str:
    return f"{pair[0].__name__}/{pair[1].__name__}"


def _gradient_owner(name: str, candidates: list[str]) -> str | None:
    """`d_kernel`, `dkernel`, `grad_kernel`, `kernel_grad`, `dW` -> the argument it is the gradient of."""
    stem = re.sub(r"(?i)^(d_?|grad_?|delta_?)|(_?grad|_?gradient)$", "", name)
    return next((c for c in candidates if c == stem), None) or next((c for c in candidates if c.lower() == stem.lower()), None)


def _returned_names(backward: Any) -> list[str | None] | None:
    import ast

    node = function_node(backward)
    if node is None:
        return None
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    value = returns[-1].value
    elements = value.elts if isinstance(value, ast.Tuple) else [value]
    return [e.id if isinstance(e, ast.Name) else None for e in elements]


class InputPair(Adapter):
    """forward(x, *params) -> out; backward(x, *params, dout) -> the returned gradients."""

    def __init__(self, forward: Any, backward: Any, names: list[str], values: dict[str, Any], upstream: str):
        super().__init__(name=label((forward, backward)), kind="function-pair", target=forward)
        self._forward, self._backward = forward, backward
        self._names, self._values, self._upstream = names, values, upstream
        self._params = {n: v for n, v in values.items() if n != names[0] and is_float_array(v)}
        self._x: Any = None
        self.returns_gradients = False
        self._returned = _returned_names(backward)

    def params(self) -> dict[str, np.ndarray]:
        return self._params

    def _given(self, x: Any) -> dict[str, Any]:
        return {**self._values, self._names[0]: x, **self._params}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._x = x
        given = self._given(x)
        return self._forward(*(given[n] for n in required_inputs(self._forward)))

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        given = {**self._given(np.array(self._x, copy=True)), self._upstream: dout}
        result = self._backward(*(given[n] for n in required_inputs(self._backward)))
        grads = list(result) if isinstance(result, tuple) else [result]
        owners: dict[str, Any] = {}
        names = self._returned or []
        for i, g in enumerate(grads):
            owner = _gradient_owner(names[i], self._names) if i < len(names) and names[i] else None
            if owner is not None and owner not in owners:
                owners[owner] = g
        if len(owners) < len(grads):  # matched by shape where the names say nothing
            shapes = {n: np.shape(v) for n, v in [(self._names[0], self._x), *self._params.items()]}
            for g in grads:
                if any(g is v for v in owners.values()):
                    continue
                fits = [n for n, s in shapes.items() if n not in owners and np.shape(g) == s]
                if fits:
                    owners[fits[0]] = g
        dx = owners.get(self._names[0])
        self.returns_gradients = dx is None
        return dx, {n: owners.get(n) for n in self._params}

    def backward_target(self) -> Any:
        return self._backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return tuple(n for n in (self._returned or []) if n and _gradient_owner(n, [param])) or (f"d{param}", f"d_{param}")

    def input_grad_targets(self) -> tuple[str, ...]:
        x = self._names[0]
        return tuple(n for n in (self._returned or []) if n and _gradient_owner(n, [x])) or ("dx", f"d{x}", f"d_{x}")


def _synthesised(names: list[str]) -> list[dict[str, Any]]:
    """A batch of rows with a weight matrix (and a bias), and a 2-D input with a square kernel."""
    rng = np.random.default_rng(FORWARD_SEED)
    out = []
    if len(names) in (2, 3):
        values = {names[0]: rng.standard_normal((5, 4)), names[1]: 0.5 * rng.standard_normal((4, 3))}
        if len(names) == 3:
            values[names[2]] = 0.1 * rng.standard_normal(3)
        out.append(values)
        out.append({names[0]: rng.standard_normal((6, 6)), names[1]: 0.5 * rng.standard_normal((3, 3)), **({names[2]: 0.1} if len(names) == 3 else {})})
    return out


def build(pair: tuple[Any, Any], context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor.build import _trial

    forward, backward = pair
    upstream = _upstream_name(forward, backward)
    if upstream is None:
        raise NotChecked(f"`{label(pair)}` no longer reads as a forward and a backward taking its inputs again")
    names = required_inputs(forward)
    call = program_call(context, forward)
    tries: list[tuple[str, dict[str, Any]]] = []
    if call is not None and len(call.args) >= len(names) and is_float_array(call.args[0]):
        values = {n: np.array(v, dtype=float) if is_float_array(v) else v for n, v in zip(names, call.args)}
        tries.append(("the program's call", values))
    tries += [("synthesised", v) for v in _synthesised(names)]
    for how, values in tries:
        adapter = InputPair(forward, backward, names, values, upstream)
        x = np.array(values[names[0]], dtype=float)

        def trial(adapter: InputPair = adapter, x: np.ndarray = x) -> bool:
            np.random.seed(FORWARD_SEED)
            with np.errstate(all="ignore"):
                out = adapter.forward(x.copy())
                if not is_float_array(out):
                    return False
                dx, grads = adapter.backward(np.ones_like(out))
            return any(isinstance(g, np.ndarray) for g in [dx, *grads.values()])

        if _trial(trial, default=False):
            shapes = ", ".join(f"{n} {np.shape(v)}" for n, v in values.items() if is_float_array(v))
            return [Case(f"{shapes} ({how})", adapter, x)]
    raise NotChecked(f"`{label(pair)}` did not run on the inputs tried")
