"""cs231n function pairs and loss functions (Stanford CS231n assignments 2 and 3).

`name_forward(x, *params[, config]) -> (out, cache)` and `name_backward(dout,
cache) -> (dx, dparam...)`, with trailing non-array arguments such as
`conv_param = {"stride": 1, "pad": 1}`; loss functions `softmax_loss(x, y) ->
(loss, dx)` with integer labels.

Example:
    def affine_forward(x, w, b):
        out = x.reshape(x.shape[0], -1).dot(w) + b
        return out, (x, w, b)

    def affine_backward(dout, cache):
        x, w, b = cache
        dx = dout.dot(w.T).reshape(x.shape)
        dw = x.reshape(x.shape[0], -1).T.dot(dout)
        db = dout.sum(axis=0)
        return dx, dw, db

Recognised by: a `*_forward` function with a `*_backward` partner, and a trial
call on synthesized inputs that returns `(out, cache)`; a loss function by a
trial call `f(scores, labels)` that returns `(scalar, array of the scores'
shape)`, never by its name alone. Gradients live in the backward's return
values, in the order of the forward's arguments.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.conventions import column_pairs
from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, is_gradient_like, parameters, required_positional

NAME = "cs231n"
ORDER = 30


class FunctionPair(Adapter):
    """A cs231n pair `name_forward(x, *params[, config]) -> (out, cache)` / `name_backward`."""

    def __init__(
        self,
        forward: Callable,
        backward: Callable,
        params: dict[str, np.ndarray],
        config: tuple[Any, ...] = (),
        name: str | None = None,
    ):
        base = forward.__name__.removesuffix("_forward").removesuffix("_forward_naive").removesuffix("_forward_fast")
        super().__init__(name=name or base, kind="function-pair", target=forward)
        self._forward, self._backward = forward, backward
        self._params = params
        self._config = config  # non-array trailing arguments, e.g. conv_param; copied per call
        self._again = _named_again(forward, backward, len(params), config)
        self._arrays_again = _arrays_again(backward, params)
        self._cache_name = _cache_after_weights(backward, params)
        self._cache_first = cache_first(backward)  # `maxpool_backward(ar, dpool)`: the cache handed first
        self._cache: Any = None
        self._widths: tuple[int, ...] | None = None  # the outputs' widths, for a forward with two (`two_outputs`)
        self._mean_over: int | None = None  # m, when the pair follows the mean convention
        self.rows_over: int | None = None  # n, when a pair over columns divides by its input's rows instead (`outcomes` words it)
        self._cache_is_output: bool | None = None  # for a forward that returns its output alone (`array_cache_is_output`)
        self._x_shape: tuple[int, ...] | None = None  # the last input's shape, to match returned gradients by shape (`_grads`)
        self.returns_gradients = False  # its backward returns the parameters' gradients and no dx (found by shape in `_grads`)
        self._decided = False

    def params(self) -> dict[str, np.ndarray]:
        return self._params

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        if not self._decided:
            self._decided = True
            self._mean_over = self._mean_convention(x)
            self.rows_over = self._mean_convention(x, rows=True) if self._mean_over is None else None
        self._x_shape = np.shape(x)
        out, self._cache = self._call_forward(x, self._params)
        return out

    def _call_forward(self, x: np.ndarray, params: dict[str, np.ndarray]) -> Any:
        result = self._forward(x, *params.values(), *copy.deepcopy(self._config))
        if isinstance(result, np.ndarray):  # `sigmoid(Z) -> A` with `sigmoid_backward(dA, Z)`
            if self._cache_is_output is None:  # decided once, at the first forward that returns an array
                self._cache_is_output = array_cache_is_output(self._forward, self._backward, x, params, self._config)
            return result, (result.copy() if self._cache_is_output else x.copy())
        outputs = two_outputs(result)
        if outputs is None:
            return result
        # `lstm_step_forward -> (next_h, next_c, cache)`: checked as one output, side by side
        self._widths = tuple(o.shape[-1] for o in outputs)
        return np.concatenate(outputs, axis=-1), result[2]

    def _call_backward(self, dout: Any, cache: Any) -> Any:
        widths = self._widths
        if widths is not None and isinstance(dout, np.ndarray):  # `lstm_step_backward(dnext_h, dnext_c, cache)`
            parts = np.split(dout, np.cumsum(widths)[:-1], axis=-1)
            return self._backward(*parts, cache, **copy.deepcopy(self._again), **self._weights_again())
        if self._cache_name is not None:  # `bn_backward(dout, gamma, cache)`: the cache after a weight, by name
            return self._backward(dout, **{self._cache_name: cache}, **copy.deepcopy(self._again), **self._weights_again())
        if self._cache_first:
            return self._backward(cache, dout, **copy.deepcopy(self._again), **self._weights_again())
        return self._backward(dout, cache, **copy.deepcopy(self._again), **self._weights_again())

    def _weights_again(self) -> dict[str, np.ndarray]:
        """The forward's weights its backward takes again by name (`res_backward(dy, cache, W1, W2)`
        of `res_forward(x, W1, b1, W2, b2)`), as they are now, as its caller passes them."""
        return {name: self._params[name] for name in self._arrays_again}

    def _grads(self, result: Any) -> tuple[Any, dict[str, Any]]:
        grads = list(result) if isinstance(result, tuple) else [result]
        dx = grads[0] if grads else None
        named = {name: grads[i + 1] if i + 1 < len(grads) else None for i, name in enumerate(self._params)}
        shapes = {"x": self._x_shape, **{name: np.shape(p) for name, p in self._params.items()}}
        if any(isinstance(g, np.ndarray) and np.shape(g) != shapes[k] for k, g in {"x": dx, **named}.items()):
            matched = _matched_by_shape(grads, shapes)  # `return dWx, dWh, db, dh0`: another order than cs231n's
            if matched is not None:
                self.returns_gradients = "x" not in matched  # the input's gradient left out on purpose (data, not a layer's output)
                return matched.get("x"), {name: matched.get(name) for name in self._params}
            if len(grads) == len(self._params) and all(isinstance(g, np.ndarray) and np.shape(g) == shapes[n] for g, n in zip(grads, self._params)):
                # `return dWg, dWe`: one gradient per parameter, in the forward's order, and no input gradient
                # (two parameters of one shape, which the shapes alone cannot tell apart)
                self.returns_gradients = True
                return None, dict(zip(self._params, grads))
        return dx, named

    def _mean_convention(self, x: np.ndarray, rows: bool = False) -> int | None:
        """m when the pair works over columns and divides its parameter gradients by their
        number (the deep-learning course's convention, see `column_pairs`); with `rows`, the
        number of the input's rows when it divides by that instead (`m = A_prev.shape[0]`)."""
        caches: list[Any] = []

        def forward(x: np.ndarray, params: dict[str, np.ndarray]) -> Any:
            out, cache = self._call_forward(x, params)
            caches.append(cache)
            return out

        def backward(dout: Any) -> dict[str, Any]:
            return self._grads(self._call_backward(dout, caches[0]))[1]

        return (column_pairs.mean_rows if rows else column_pairs.mean_columns)(forward, backward, x, self._params)

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        dx, grads = self._grads(self._call_backward(dout, self._cache))
        if self._mean_over is not None:  # gradients of the mean over the columns: compared as of the sum
            grads = {k: g * self._mean_over if is_gradient_like(g) else g for k, g in grads.items()}
        return dx, grads

    def backward_target(self) -> Any:
        return self._backward

    def grad_targets(self, param: str) -> tuple[str, ...]:
        # a backward that returns its helper's gradients (`return linear_backward(dZ, cache)`)
        # computes them from the pre-activation gradient
        return (f"d{param}", param, "dZ", "dz")


OUTPUT_NAMES = frozenset({"a", "out", "output", "y", "s", "h", "activation", "activations", "sig", "act"})


def array_cache_is_output(forward: Callable, backward: Callable, x: np.ndarray, params: dict[str, np.ndarray], config: tuple[Any, ...]) -> bool:
    """For a forward that returns its output alone (`relu(Z) -> A`), whether the backward's second
    argument is that output (`sigmoid_backward(dA, A) = dA * A * (1 - A)`) rather than the input
    (`relu_backward(dA, Z)`). Decided by which of the two makes the backward agree with a central
    difference of the forward along one direction; when both or neither do, by the argument's
    name (`A`, `out`, `y`: the output), so a wrong backward is checked as it is written."""
    names = [n.lower() for n in required_positional(backward)]
    by_name = len(names) >= 2 and names[1 - cache_first(backward)] in OUTPUT_NAMES

    def run(z: np.ndarray) -> Any:
        state = np.random.get_state()
        try:
            np.random.seed(FORWARD_SEED)
            return forward(z, *[p.copy() for p in params.values()], *copy.deepcopy(config))
        finally:
            np.random.set_state(state)

    try:
        out = run(x.copy())
        if not (isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype.kind == "f"):
            return by_name
        rng = np.random.default_rng(0)
        dout, v, h = rng.standard_normal(out.shape), rng.standard_normal(x.shape), 1e-6
        slope = float(np.sum(dout * (np.asarray(run(x + h * v)) - np.asarray(run(x - h * v))))) / (2 * h)
        agree = []
        first = cache_first(backward)
        for cache in (x.copy(), out.copy()):
            result = backward(cache, dout.copy()) if first else backward(dout.copy(), cache)
            dx = np.asarray(result[0] if isinstance(result, tuple) else result, dtype=np.float64)
            agree.append(dx.shape == x.shape and abs(float(np.sum(dx * v)) - slope) <= 1e-4 * (abs(slope) + 1e-8))
    except Exception:  # noqa: BLE001 - user code: the check itself will report what it raises
        return by_name
    return agree[1] if agree[0] != agree[1] else by_name


_NOT_UPSTREAM = ("data", "dist", "dim", "drop", "dict", "dtype", "depth", "deg", "dur", "day", "date", "doc", "dom", "dec")


def upstream_named(name: str) -> bool:
    """A name of the gradient a backward is handed from above: `dout`, `dA`, `d_out`, `dpool`, `grad_output`,
    `delta`, `upstream`, `gy`, `g_out`, `err` (not `data`, `dims`, `dropout`, values named with a `d`)."""
    low = name.lower()
    if low.startswith("d") and len(low) > 1 and not low.startswith(_NOT_UPSTREAM):
        return True
    return "grad" in low or "upstream" in low or low in ("g", "gy", "gys", "err", "error", "delta") or bool(re.match(r"g_?out", low))


def cache_first(backward: Callable) -> bool:
    """Whether a pair's backward takes the forward's cache first and the upstream gradient second
    (`maxpool_backward(ar, dpool)`, `relu_backward(x, dout)`, `sigmoid_backward(cache, dA)`), by its two
    arguments' names: the second is named as the upstream gradient and the first is not. Handed in cs231n's
    order `(dout, cache)`, such a backward reads the gradient as its cache and fails, or computes nonsense."""
    try:
        names = required_positional(backward)
    except (TypeError, ValueError):
        return False
    return len(names) == 2 and upstream_named(names[1]) and not upstream_named(names[0]) and "cache" not in names[1].lower()


def _matched_by_shape(grads: list[Any], shapes: dict[str, Any]) -> dict[str, Any] | None:
    """Each returned array given to the one input or parameter of its shape, when every array has
    exactly one such and no two share it; None otherwise (the order returned is then the one read)."""
    matched: dict[str, Any] = {}
    for g in grads:
        if not isinstance(g, np.ndarray):
            return None
        owners = [name for name, shape in shapes.items() if shape == g.shape]
        if len(owners) != 1 or owners[0] in matched:
            return None
        matched[owners[0]] = g
    return matched


def two_outputs(result: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """`(next_h, next_c)` of a forward that returns two arrays of one batch and its cache."""
    if not (isinstance(result, tuple) and len(result) == 3):
        return None
    first, second = result[0], result[1]
    if isinstance(first, np.ndarray) and isinstance(second, np.ndarray) and first.ndim >= 1 and first.shape[:-1] == second.shape[:-1]:
        return first, second
    return None


def _named_again(forward: Callable, backward: Callable, arrays: int, config: tuple[Any, ...]) -> dict[str, Any]:
    """The forward's trailing arguments its backward takes again by the same name:
    `linear_activation_backward(dA, cache, activation)` gets the forward's `activation`."""
    names = list(parameters(forward))[1 + arrays:]
    wanted = set(list(required_positional(backward))[2:])
    return {name: value for name, value in zip(names, config) if name in wanted}


def _arrays_again(backward: Callable, params: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The forward's array arguments its backward takes again by the same name, after the upstream
    gradient and the cache (`block_backward(dy, cache, W1, W2)` of `block_forward(x, W1, b1, W2, b2)`)."""
    return tuple(name for name in list(required_positional(backward))[1:] if name in params)


def _cache_after_weights(backward: Callable, params: dict[str, np.ndarray]) -> str | None:
    """The name of a backward's cache that comes after the forward's weights it takes again
    (`bn_backward(dout, gamma, cache)`), to hand it by name; None for the cs231n order `(dout, cache, ...)`."""
    names = list(required_positional(backward))
    if len(names) < 3 or names[1] not in params:
        return None
    return next((n for n in names[2:] if "cache" in n.lower()), None)


def not_handed(forward: Callable, backward: Any) -> list[str]:
    """What the backward takes after the upstream gradient and the cache that a pair's check cannot
    hand it: none of the forward's arguments (those it hands again by name, `_named_again`,
    `_arrays_again`), nor a cache after the forward's weights (`_cache_after_weights`). `G` of
    `gru_step_back(dh, cache, P, G)`, a dict of gradients the program's loop adds into."""
    import inspect

    from backprop_doctor.conventions._classlayer import required_inputs

    try:
        taken = set(inspect.signature(forward).parameters)
    except (TypeError, ValueError):
        return []
    if not callable(backward):
        return []
    names = required_inputs(backward)
    # `bn_backward(dout, gamma, cache)`: a weight of the forward before the cache, which the pair hands by name
    weights_first = len(names) > 2 and names[1] in taken
    return [n for n in names[2:] if n not in taken and not (weights_first and "cache" in n.lower())]


def is_pair(forward: Callable, backward: Callable) -> bool:
    """Whether `name_forward`/`name_backward` is a function pair by its signature: the forward
    takes an input (a `*_forward_test_case()` that makes one does not), and not the whole
    dictionary of parameters (a network written as functions, see `function_networks`; a
    recurrent cell over one, see `gradient_dicts`); the backward takes the upstream gradient and
    a cache (two arguments, or one after the first named like `cache`)."""
    if re.search(r"_forward_tests?(_|$)", forward.__name__):
        return False  # `rnn_cell_forward_test(target)`: a test of a forward, which it is given
    names = [n.lower() for n in required_positional(forward)]
    if not names or any(n in ("parameters", "params", "parameter") or n.startswith("params_") for n in names):
        return False
    # the backward takes the upstream gradient and the forward's cache (`linear_activation_backward(dA,
    # cache, activation)`), not the forward's values one by one (`layer_backward(dA, W, Z, A_prev)`)
    back = [n.lower() for n in required_positional(backward)]
    return len(back) <= 2 or any("cache" in n for n in back[1:])  # `lstm_step_backward(dnext_h, dnext_c, cache)`


class LossFunction(Adapter):
    """A cs231n loss `softmax_loss(x, y) -> (loss, dx)`; it has no dout to honour."""

    def __init__(self, func: Callable, name: str | None = None):
        super().__init__(name=name or func.__name__, kind="loss-function", target=func, is_loss=True)
        self._func = func
        self._dx: np.ndarray | None = None
        self.dout_is_input = False

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x: np.ndarray, t: np.ndarray | None = None) -> Any:
        extra = (np.ones(np.shape(t), dtype=bool),) if is_masked(self._func) else ()  # every time step counts
        loss, self._dx = self._func(x, t, *extra)
        return loss

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return (None if self._dx is None else self._dx * dout), {}


def is_masked(func: Callable) -> bool:
    """A temporal loss `temporal_softmax_loss(x, y, mask)`: a third argument that says which time steps count."""
    names = [n.lower() for n in required_positional(func)]
    return len(names) == 3 and "mask" in names[2]


def returns_masked_loss(func: Callable, rng: np.random.Generator) -> bool:
    """Whether `func(x, y, mask)` on scores (N, T, V) gives `(scalar, dx)` shaped like the scores."""
    if not is_masked(func):
        return False
    scores = rng.standard_normal((2, 3, 4))
    return _loss_and_gradient(func, scores, rng.integers(0, 4, (2, 3)), np.ones((2, 3), dtype=bool))


def returns_loss_and_gradient(func: Callable, scores: np.ndarray, labels: np.ndarray) -> bool:
    """Whether `func(scores, labels)` gives `(scalar, dx)` with dx shaped like the scores:
    a cs231n loss function, not a library `softmax_loss(X, t)` that returns the loss alone."""
    return len(required_positional(func)) == 2 and _loss_and_gradient(func, scores, labels)


def _loss_and_gradient(func: Callable, scores: np.ndarray, labels: np.ndarray, *extra: Any) -> bool:
    """Whether a trial `func(scores, labels, *extra)` gives `(scalar, dx)` with dx shaped like the scores."""
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        result = func(scores.copy(), labels.copy(), *extra)
    except Exception:
        return False
    finally:
        np.random.set_state(state)
    if not (isinstance(result, tuple) and len(result) == 2):
        return False
    loss, dx = result
    return np.size(loss) == 1 and isinstance(dx, np.ndarray) and dx.shape == scores.shape and not _probabilities(dx)


def _probabilities(value: np.ndarray) -> bool:
    """Each row non-negative and summing to 1: the softmax a loss function hands back beside its loss
    (`return loss, np.exp(logp)`) for the caller's own backward pass, not the loss's gradient, whose
    rows sum to 0 under a softmax."""
    if value.ndim != 2 or not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
        return False
    return bool(np.all(value >= 0) and np.allclose(value.sum(axis=1), 1.0, rtol=0.0, atol=1e-6))
