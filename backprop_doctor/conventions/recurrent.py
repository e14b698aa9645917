"""Layers with several inputs or outputs: recurrent cells, and the book's MulLayer/AddLayer.

A DLFS-2 `RNN` cell's `forward(x, h_prev)` returns `h_next` and its
`backward(dh_next)` returns `(dx, dh_prev)`; an `LSTM` cell's `forward(x, h_prev,
c_prev)` returns `(h_next, c_next)` and `backward(dh_next, dc_next)` returns
`(dx, dh_prev, dc_prev)`; a `MulLayer`'s `forward(x, y)` returns `x * y` and
`backward(dout)` returns `(dx, dy)` (a stateless gate's `backward(x, y, dout)`
gets the inputs again, see `gates`). Every input after the first is checked like
a parameter (its gradient is the matching value backward returns); several
outputs are checked as one (their upstream gradients are passed in order).
Time layers over a whole sequence (`TimeRNN.forward(xs)` with xs of shape
(N, T, D)) have one input and are checked as DLFS-2 layers on sequences.

Example:
    class RNN:
        def __init__(self, Wx, Wh, b):
            self.params = [Wx, Wh, b]
            self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]

        def forward(self, x, h_prev):
            Wx, Wh, b = self.params
            h_next = np.tanh(np.dot(h_prev, Wh) + np.dot(x, Wx) + b)
            self.cache = (x, h_prev, h_next)
            return h_next

        def backward(self, dh_next):
            Wx, Wh, b = self.params
            x, h_prev, h_next = self.cache
            dt = dh_next * (1 - h_next ** 2)
            self.grads[0][...] = np.dot(x.T, dt)
            self.grads[1][...] = np.dot(h_prev.T, dt)
            self.grads[2][...] = dt.sum(axis=0)
            return np.dot(dt, Wx.T), np.dot(dt, Wh.T)

Recognised by: a layer class whose forward takes two or more inputs, the second
not named like a target (`t`, `labels`, `y_true`); confirmed by a trial forward
on inputs of the shapes its weights imply (`x` (N, D), states (N, H)) that
returns one array or a tuple of arrays, not a scalar loss. Gradients: the
parameters' where their layer convention keeps them, the inputs' in what
backward returns.
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, GRAD_NAMES, is_float_array, is_gradient_like, listed_arrays, method_of, train_kwargs
from backprop_doctor.conventions import _classlayer
from backprop_doctor.conventions._classlayer import ClassLayer, call_backward, call_forward, function_node, required_inputs, self_name
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "multi-input"
KIND = "class"
ORDER = 12
TARGETS = ("t", "target", "targets", "label", "labels", "y_true", "ytrue", "ts", "answer", "true", "teacher", "correct", "y_target", "t_true")
PREDICTIONS = ("y_pred", "ypred", "pred", "prediction", "predictions", "yhat", "y_hat", "output", "outputs", "scores", "logits", "probs")


def _inputs(cls: type) -> list[str]:
    methods = _classlayer.layer_methods(cls)
    forward = getattr(cls, methods.forward, None) if methods else None
    return [n for n in required_inputs(forward)] if callable(forward) else []


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    names = [n.lower() for n in _inputs(cls)]
    if len(names) < 2 or names[1] in TARGETS or names[0] in PREDICTIONS:
        return False
    methods = _classlayer.layer_methods(cls)
    if methods is None or methods.backward_gets_prediction:
        return False
    backward = method_of(cls, methods.backward)
    if callable(backward) and not _classlayer.parameters(backward):
        # `forward(A, Y)` beside a `backward()` that takes nothing and returns dL/dA (CMU 11-785's `MSELoss`):
        # a loss holding its target, not a gate, which would take an upstream gradient for its output
        return False
    # `backward(x, y)` taking what forward took, and no upstream gradient: a loss (`loss-objects`), not a gate
    return not (callable(backward) and [n.lower() for n in required_inputs(backward)] == names)


def recurrent_kwargs(cls: type, rng: np.random.Generator, k: int, d: int = 4, h: int = 3) -> dict[str, Any] | None:
    """DLFS-2 recurrent weights `Wx` (D, k·H), `Wh` (H, k·H), `b` (k·H,): k = 1 for an RNN,
    4 for an LSTM, 3 for a GRU. None when the constructor does not take them."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return None
    names = [p.name.lower() for p in params]
    if not ({"wx", "wh"} <= set(names) or {"w_x", "w_h"} <= set(names)):
        return None
    kwargs: dict[str, Any] = {}
    for p in params:
        low = p.name.lower()
        if low in ("wx", "w_x"):
            kwargs[p.name] = 0.5 * rng.standard_normal((d, k * h))
        elif low in ("wh", "w_h"):
            kwargs[p.name] = 0.5 * rng.standard_normal((h, k * h))
        elif low in ("b", "bias", "bh"):
            kwargs[p.name] = 0.1 * rng.standard_normal(k * h)
        elif p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        else:
            return None
    return kwargs


def constructions(cls: type, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Argument sets to try: the recurrent weight shapes (RNN, LSTM, GRU), then names."""
    from backprop_doctor import build

    found = [kw for k in (1, 4, 3) if (kw := recurrent_kwargs(cls, rng, k)) is not None]
    try:
        found.append(build.infer_kwargs(cls, rng))
    except build.BuildError:
        pass
    return found


class MultiInput(ClassLayer):
    """A layer with several inputs (the first is `x`, the others are checked like parameters)
    and possibly several outputs (flattened into one; backward gets one upstream gradient each)."""

    def __init__(self, layer: Any, extras: dict[str, np.ndarray], outputs: int, *, train: bool = True):
        super().__init__(layer, train=train)
        self.kind = "multi-input-layer"
        self.is_loss = False
        self.dout_is_input = True
        self.extras = extras
        self.outputs = outputs
        self._shapes: list[tuple[int, ...]] = []
        self._extra_grads: dict[str, Any] = {}
        self._kept: dict[str, str] = {}  # an input -> the attribute backward kept its gradient in (`_stored`)
        self._given: np.ndarray | None = None  # x as forward got it, for a gate's backward(x, y, dout)
        self._out: Any = None  # what forward returned, for a cell's backward(delta, h_t, x, h_prev) (`_states_again`)
        self._order: tuple[int, ...] | None = None  # the order `_states_again` gives forward's values in, once found
        # backward(dout, inputs): the inputs of forward it takes again by their names, after its upstream gradients
        self._again = again_inputs(type(layer), self.methods) if not self.methods.backward_gets_inputs else []
        backward = getattr(layer, self.methods.backward, None)
        if self._again and callable(backward) and len(required_inputs(backward)) - len(self._again) > outputs:
            self._again = []  # more to give than the upstream gradients: forward's output too (`_states_again`)

    def params(self) -> dict[str, np.ndarray]:
        if self._again and self._returned:  # `return dWxh, dWhh, ...`: the parameters' gradients, none of the other inputs
            return self.layer_params()
        return {**self.layer_params(), **{k: v for k, v in self.extras.items() if is_float_array(v)}}

    @property
    def upstream_count(self) -> int | None:
        """How many upstream gradients a backward taking forward's inputs again takes (`backward(dout, inputs)`: 1);
        None for any other backward."""
        if not self._again:
            return None
        backward = getattr(self.layer, self.methods.backward, None)
        return len(required_inputs(backward)) - len(self._again) if callable(backward) else None

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        forward = getattr(self.layer, self.methods.forward)
        self._given = x.copy()
        self._inputs = (x, t)
        out = call_forward(self.layer, self.methods, x, *[e.copy() for e in self.extras.values()], **train_kwargs(forward, self.train))
        self._out = out
        upstream = self.upstream_count
        if isinstance(out, tuple) and upstream is not None and 1 <= upstream < len(out):
            out = out[:upstream] if upstream > 1 else out[0]  # `return logits, h` to `backward(dout, inputs)`: the logits only
        if isinstance(out, tuple):
            self._shapes = [np.shape(o) for o in out]
            return np.concatenate([np.ravel(np.asarray(o, dtype=np.float64)) for o in out])
        self._shapes = []
        return out

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        backward = getattr(self.layer, self.methods.backward)
        if self._again:
            pieces, start = [], 0
            for shape in self._shapes:
                size = int(np.prod(shape))
                pieces.append(np.asarray(dout)[start:start + size].reshape(shape))
                start += size
            result = backward(*self._with_inputs(pieces if self._shapes else [dout]))
            if self._returned and isinstance(result, tuple) and len(result) == self.returned_count:
                self._returned_values = result  # `return dWxh, dWhh, ...`: the parameters' gradients, no input gradient
                return None, self._layer_grads()
        elif self._shapes:
            pieces, start = [], 0
            for shape in self._shapes:
                size = int(np.prod(shape))
                pieces.append(np.asarray(dout)[start:start + size].reshape(shape))
                start += size
            result = call_backward(self.layer, self.methods, *pieces)
        elif self.methods.backward_gets_inputs:  # a stateless gate: backward(x1, x2, dz)
            result = backward(self._given.copy(), *[e.copy() for e in self.extras.values()], dout)
        elif (again := self._states_again()) is not None:  # a cell's backward(delta, h_t, x, h_prev)
            result = backward(dout, *again)
        else:
            result = call_backward(self.layer, self.methods, dout)
        values = list(result) if isinstance(result, tuple) else [result]
        dx = values[0] if values else None
        self._extra_grads = {name: values[i + 1] if i + 1 < len(values) else self._stored(name) for i, name in enumerate(self.extras)}
        return dx, {**self._layer_grads(), **{k: v for k, v in self._extra_grads.items() if k in self.params()}}

    def _states_again(self) -> list[np.ndarray] | None:
        """What a backward taking the upstream gradient and then forward's inputs and output again
        (CMU 11-785's `RNNCell.backward(delta, h_t, h_prev_l, h_prev_t)` of `forward(x, h_prev_t)`) is
        given after the upstream gradient, in its order (`again_orders`; of a group as good, the one
        order backward runs on, tried once on a copy), or None for a backward taking the upstream
        gradient alone, or one no order is found for."""
        if self._shapes or self._given is None or not isinstance(self._out, np.ndarray) or self.methods.through_call:
            return None
        names = required_inputs(getattr(self.layer, self.methods.backward))
        if len(names) < 2:
            return None
        values = [self._given, *self.extras.values(), self._out]
        if self._order is None:
            forward_names = [self.forward_names()[0], *[k.partition(" (input")[0] for k in self.extras]]
            self._order = ()
            for group in again_orders(names[1:], forward_names):
                running = [order for order in group if self._runs_with(values, order)]
                if running:
                    self._order = running[0] if len(running) == 1 else ()
                    break
        if not self._order:
            return None
        return [np.array(values[i], copy=True) for i in self._order]

    def _runs_with(self, values: list[Any], order: tuple[int, ...]) -> bool:
        """Whether backward runs on a copy of the layer given `values` in `order`, and returns an input
        gradient shaped as the input."""
        state = np.random.get_state()
        try:
            work = copy.deepcopy(self.layer)
            dout = np.ones_like(np.asarray(self._out, dtype=np.float64))
            result = getattr(work, self.methods.backward)(dout, *[np.array(values[i], copy=True) for i in order])
            first = result[0] if isinstance(result, tuple) else result
            return isinstance(first, np.ndarray) and first.shape == self._given.shape and bool(np.all(np.isfinite(first)))
        except Exception:  # noqa: BLE001 - user code on an order the tool tries
            return False
        finally:
            np.random.set_state(state)

    @property
    def sums_over_steps(self) -> bool:
        """Whether this is a recurrent cell called once per time step, adding its parameters' gradients
        over the steps by design (`contracts.accumulation_reset`): its backward takes forward's values
        again (`_states_again`), or one of its other inputs is a hidden state (`h`, `h_prev`, `hidden`)."""
        return bool(self._order) or any(_STATE.fullmatch(name) for name in self.extras)

    def trial_copy(self) -> MultiInput:
        other = MultiInput(copy.deepcopy(self.layer), {k: np.array(v, copy=True) for k, v in self.extras.items()}, self.outputs, train=self.train)
        other._order = self._order
        return other

    def forward_names(self) -> list[str]:
        return _inputs(type(self.layer)) or ["x"]

    def _with_inputs(self, upstream: list[Any]) -> list[Any]:
        """backward's arguments: copies of forward's inputs where it takes them again by name, the upstream
        gradients in order elsewhere."""
        backward = getattr(self.layer, self.methods.backward)
        given = {name: value for name, value in zip(_inputs(type(self.layer)), [self._given, *self.extras.values()])}
        pending = list(upstream)
        args = []
        for name in required_inputs(backward):
            if name in self._again:
                args.append(np.array(given[name], copy=True))
            else:
                args.append(pending.pop(0) if pending else None)
        return args

    def _stored(self, name: str) -> Any:
        """A copy of the gradient of the input `name` that backward kept rather than returned
        (`self.dW = x.T @ dout` for `forward(x, W, b)`, `return dx`), or None."""
        for pattern in GRAD_NAMES:
            value = getattr(self.layer, pattern.format(name), None)
            if is_gradient_like(value):
                self._kept[name] = pattern.format(name)
                return np.array(value, copy=True)
        return None

    def gradients_from(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return {**super().gradients_from(snapshot), **{k: v for k, v in self._extra_grads.items() if k in self.params()}}

    def grad_targets(self, param: str) -> tuple[str, ...]:
        if param in self._kept:
            return (f"{self_name(function_node(self.backward_target()))}.{self._kept[param]}",)
        if param in self.extras:
            name = param.partition(" (input")[0]  # `x (input 2)`: the input forward calls `x`
            return (f"d{name}", f"d_{name}", name)
        return super().grad_targets(param)


_STATE = re.compile(r"(?i)(h|c|s|a)(_?(prev|tm1|last|old|in)\w*)?|hidden\w*|state\w*|h_?\w*prev\w*")  # a recurrent state input
_PREVIOUS = re.compile(r"(?i).*(prev|last|old|before|below|_l$|tm1|past)")  # a state or input forward was handed
_NEW = re.compile(r"(?i).*(next|new|out|_t$|prime|cur|now)|[has]$")  # the state forward returned (`h_t`, `h_next`, `h`)


def again_orders(names: list[str], forward_names: list[str]) -> list[list[tuple[int, ...]]]:
    """The ways to give a backward's arguments after its upstream gradient (`names`) forward's inputs
    (`forward_names`, indices 0..k-1) and its output (index k), each value once, best first, in groups
    of equal score: an argument named as an input is that input, one named like a state handed in
    (`h_prev_t`, `h_before`, `x_below`) is an input, never the output, and one named like a new state
    (`h_t`, `h_next`) is the output. The caller tells a group's members apart by running them."""
    import itertools

    k = len(forward_names)
    scored: dict[float, list[tuple[int, ...]]] = {}
    for chosen in itertools.permutations(range(k + 1), len(names)):
        total = 0.0
        for arg, i in zip(names, chosen):
            prior = bool(_PREVIOUS.match(arg))
            if i == k:
                if prior:
                    break
                total += 2 if _NEW.match(arg) else 0
            else:
                total += (3 if arg == forward_names[i] else 0) + (2 if prior else 0)
        else:
            scored.setdefault(total, []).append(chosen)
    return [scored[total] for total in sorted(scored, reverse=True)]


def again_inputs(cls: type, methods: Any) -> list[str]:
    """The inputs of forward that backward takes again by the same names after at least one upstream
    gradient (`forward(inputs, hprev)` / `backward(dout, inputs)`: `["inputs"]`); [] for any other backward,
    and for one taking them first (a gate's `backward(x, y, dz)`)."""
    forward, backward = method_of(cls, methods.forward), method_of(cls, methods.backward)
    if not (callable(forward) and callable(backward)):
        return []
    inputs, args = required_inputs(forward), required_inputs(backward)
    again = [name for name in args if name in inputs]
    if not again or args[0] in inputs or len(again) == len(args):
        return []
    return again


def _runs(layer: Any, x: np.ndarray, extras: list[np.ndarray], train: bool) -> Any:
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        work = copy.deepcopy(layer)
        methods = _classlayer.layer_methods(work)
        forward = getattr(work, methods.forward)
        out = _classlayer.call_forward(work, methods, x.copy(), *[e.copy() for e in extras], **train_kwargs(forward, train))
    except Exception:
        return None
    finally:
        np.random.set_state(state)
    arrays = out if isinstance(out, tuple) else (out,)
    if all(isinstance(a, np.ndarray) and a.size and np.all(np.isfinite(a)) for a in arrays):
        return out
    return None


def _backward_runs(layer: Any, extras: dict[str, Any], outputs: int, train: bool, x: np.ndarray) -> bool:
    """Whether forward and then backward (on ones shaped like the output) of a copy of the layer run
    on `x` and `extras`, as a trial: NumPy's global RNG seeded as before every forward and put back."""
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        work = MultiInput(copy.deepcopy(layer), {k: np.array(v, copy=True) for k, v in extras.items()}, outputs, train=train)
        out = work.forward(x.copy())
        work.backward(np.ones_like(np.asarray(out, dtype=np.float64)))
    except Exception:  # noqa: BLE001 - user code, on shapes the tool guessed
        return False
    finally:
        np.random.set_state(state)
    return True


def _matrices(layer: Any) -> list[np.ndarray]:
    arrays = [v for v in vars(layer).values() if is_float_array(v)]
    arrays += [p for p in listed_arrays(layer) if is_float_array(p)]
    return [a for a in arrays if a.ndim == 2]


def _shapes(layer: Any, n: int) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Candidate shapes for x and for the other inputs, from the layer's weights."""
    matrices = _matrices(layer)
    xs = [(n, m.shape[0]) for m in matrices[:1]] + [(n, 6)] + [(n, m.shape[1]) for m in matrices[:1]]
    states = [(n, m.shape[0]) for m in matrices[1:2]] + [(n, m.shape[1]) for m in matrices[:1]]
    return xs, states


WIDTH = 5  # the outputs of a layer given its weights (`forward(x, W, b)`)
_MASK = re.compile(r"(?i)(?:\w+_)?(?:mask|masks|valid|keep)(?:_\w+)?")  # a 0/1 constant the caller gives: no gradient is asked of it


def _rows_over_time(cls: type, first: str) -> bool:
    """Whether forward walks its first input one time step at a time, by an index a loop over its
    length or a range gives (`for t in range(len(inputs)): ... np.dot(inputs[t], self.Wxh)`), and
    backward transposes such a step (`np.dot(inputs[t].T, dhraw)`): each step is a (1, D) row, the
    input a sequence of them, (T, 1, D), as the program's own `line_to_tensor` makes it."""
    import ast

    forward, backward = function_node(getattr(cls, "forward", None)), function_node(getattr(cls, "backward", None))
    if forward is None or backward is None:
        return False
    steps = {
        loop.target.id for loop in ast.walk(forward)
        if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Call)
        and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"
    }  # fmt: skip
    indexed = any(
        isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == first and isinstance(n.slice, ast.Name) and n.slice.id in steps
        for n in ast.walk(forward)
    )
    transposed = any(
        isinstance(n, ast.Attribute) and n.attr == "T" and isinstance(n.value, ast.Subscript) and isinstance(n.value.slice, (ast.Name, ast.BinOp))
        for n in ast.walk(backward)
    )
    return indexed and transposed


def _weight_shape(name: str, features: int) -> tuple[int, ...]:
    """The shape of an input named like a bias (`b`, `bias`: one entry per output) or else like a
    weight matrix (features in, `WIDTH` out)."""
    return (WIDTH,) if name.lower().startswith("b") else (features, WIDTH)


def label(cls: type) -> str:
    return cls.__name__


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    from backprop_doctor import build as builder

    names = _inputs(cls)
    n = min(context.options.batch_size, 4)
    errors = []
    first: Any = None
    for kwargs in constructions(cls, rng):
        np.random.seed(context.options.seed)
        try:
            layer = cls(**kwargs)
        except Exception as error:
            errors.append(error)
            continue
        first = first or layer
        xs, states = _shapes(layer, n)
        rows = _rows_over_time(cls, names[0])
        if rows:  # `for t in range(len(inputs)): np.dot(inputs[t], Wxh)`: a sequence of (1, D) rows, one sample's state
            xs = [*xs, *((n, 1, shape[1]) for shape in xs[:1])]
            states = [*states, *((1, shape[1]) for shape in states[:1])]
        held_back: list[Case] = []  # a fallback of a 2-D input, kept while the sequence of rows is tried
        masked = [name for name in names[1:] if _MASK.fullmatch(name)]
        if masked:  # `forward(x, mask)`: a constant the caller gives, over a batch of sequences too
            xs = [*xs, (n, 5, 6)]
        rows = next((m.shape[0] for m in _matrices(layer)), 6)
        # last, one sample as vectors (a cell asserting `x.shape == (self.d,)`, `h.shape == (self.h,)`)
        xs = [*xs, *dict.fromkeys((shape[-1],) for shape in xs if len(shape) == 2)]
        for x_shape in xs:
            x = rng.standard_normal(x_shape)
            if masked:
                for mask_shape in (x_shape, x_shape[:-1]):
                    extras = [(rng.random(mask_shape) > 0.3) if _MASK.fullmatch(name) else rng.standard_normal(x_shape) for name in names[1:]]
                    out = _runs(layer, x, extras, context.options.train)
                    if out is not None and not (not isinstance(out, tuple) and np.size(out) == 1):
                        adapter = MultiInput(layer, dict(zip(names[1:], extras)), len(out) if isinstance(out, tuple) else 1, train=context.options.train)
                        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in [(names[0], x), *zip(names[1:], extras)])
                        return [Case(shapes, adapter, x)]
                continue
            # also a vector or columns to multiply (`np.dot(W, x)` of a gate given W first)
            fallback: list[Case] = []  # the first inputs forward runs on, when backward runs on none
            others = [x_shape, *states, "indices", (x_shape[-1],), (x_shape[-1], n), "weights"]
            if len(x_shape) == 1:
                others = [*dict.fromkeys((shape[-1],) for shape in [x_shape, *states])]
            for other in others:
                # the other inputs: like x, hidden states, or integer indices (EmbeddingDot's idx)
                if other == "weights":  # `forward(x, W, b)` given its weights by its network
                    extras = [rng.standard_normal(_weight_shape(name, x_shape[-1])) for name in names[1:]]
                else:
                    extras = [rng.integers(0, rows, n) if other == "indices" else rng.standard_normal(other) for _ in names[1:]]
                out = _runs(layer, x, extras, context.options.train)
                if out is None:
                    continue
                if not isinstance(out, tuple) and np.size(out) == 1:
                    if len(x_shape) == 1:
                        continue  # one sample's vectors multiplied together (`x.dot(W)`): no cell's state
                    raise NotChecked(f"`{cls.__name__}.forward({', '.join(names)})` returns a scalar: a loss whose target is not named like one")
                outputs = len(out) if isinstance(out, tuple) else 1
                # a later input named `x` (`MultiplyGate.forward(W, x)`) is not the engine's `x`, the first input
                keys = [f"{name} (input {i + 2})" if name == "x" else name for i, name in enumerate(names[1:])]
                adapter = MultiInput(layer, dict(zip(keys, extras)), outputs, train=context.options.train)
                shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in [(names[0], x), *zip(names[1:], extras)])
                if not _backward_runs(layer, dict(zip(keys, extras)), outputs, context.options.train, x):
                    # `x.dot(W)` runs on a vector W too, and gives one number per sample; its backward
                    # (`gy @ W.T`, a DeZero `MatMul`) is written for the matrix its callers give it
                    fallback = fallback or [Case(shapes, adapter, x)]
                    continue
                return [Case(shapes, adapter, x)]
            if fallback and rows and len(x_shape) == 2:
                held_back = held_back or fallback  # the sequence of rows the forward walks may still run both ways
                continue
            if fallback:  # backward raises on every shape forward takes: the engine says where
                return fallback
        if held_back:
            return held_back
    if errors:
        raise builder._raised(f"{cls.__name__}(...) raised {type(errors[-1]).__name__}: {errors[-1]}", errors[-1])
    if first is not None:
        raise NotChecked(f"no input shapes tried run through `{cls.__name__}.forward({', '.join(names)})`")
    raise NotChecked(f"cannot guess the constructor arguments of `{cls.__name__}`")
