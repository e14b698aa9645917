"""Function pairs over columns, in the deep-learning course's mean convention.

The Coursera "Building your Deep Neural Network - Step by Step" layout: one
column per sample, `A` of shape (n_in, m), `W` of shape (n_out, n_in), `b` of
shape (n_out, 1). `linear_forward(A, W, b)` returns `(Z, cache)`,
`linear_backward(dZ, cache)` returns `(dA_prev, dW, db)`;
`linear_activation_forward(A_prev, W, b, activation)` takes the activation by
name (`"relu"`, `"sigmoid"`) and its backward gets the same name again.

The course's cost is the mean over the m samples while the `dZ` handed down is
each sample's own gradient, so the pair divides the gradients of its
parameters by m and not the one of its input:

Example:
    def linear_forward(A, W, b):
        Z = np.dot(W, A) + b
        return Z, (A, W, b)

    def linear_backward(dZ, cache):
        A_prev, W, b = cache
        m = A_prev.shape[1]
        dW = np.dot(dZ, A_prev.T) / m
        db = np.sum(dZ, axis=1, keepdims=True) / m
        dA_prev = np.dot(W.T, dZ)
        return dA_prev, dW, db

Recognised by: a `*_forward` whose partner is a `*_backward` (like cs231n) and
a trial call on column-major inputs (`A` (5, 3), `W` (4, 5), `b` (4, 1)) that
returns `(Z, cache)` with Z of shape (4, 3), for each activation name it takes.
Checked in its own convention, decided by trying it: when at least one
parameter's gradient is the gradient of the sum divided by the number of
columns m, every parameter gradient is checked as the gradient of the mean
(multiplied by m before the comparison) and the input gradient as the gradient
of the sum. A gradient that is not divided while its neighbour is, a missing
activation derivative, a wrong transpose: all still disagree.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED

NAME = "column-pairs"
ORDER = 31
ACTIVATIONS = ("relu", "sigmoid")
N_IN, N_OUT, M = 5, 4, 3
CLOSE = 1e-4  # relative agreement of one directional derivative


def _names(forward: Callable) -> list[str]:
    try:
        return list(inspect.signature(forward).parameters)
    except (TypeError, ValueError):
        return []


def _trial(call: Callable[[], Any]) -> Any:
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        return call()
    except Exception:  # noqa: BLE001 - user code: not this convention
        return None
    finally:
        np.random.set_state(state)


def cases(forward: Callable, rng: np.random.Generator) -> list[tuple[str, np.ndarray, list[Any]]]:
    """Column-major inputs `forward` runs on and returns `(Z, cache)` for; [] when it does not."""
    names = _names(forward)[1:]
    if not names or [n.lower() for n in names[:2]] != ["w", "b"]:
        return []
    x = rng.standard_normal((N_IN, M))
    w = 0.5 * rng.standard_normal((N_OUT, N_IN))
    b = 0.1 * rng.standard_normal((N_OUT, 1))
    rest = [n for n in names[2:] if inspect.signature(forward).parameters[n].default is inspect.Parameter.empty]
    if len(rest) > 1:
        return []
    options = [[a] for a in ACTIVATIONS] if rest else [[]]
    found = []
    for extra in options:
        result = _trial(lambda extra=extra: forward(x.copy(), w.copy(), b.copy(), *extra))
        if isinstance(result, tuple) and len(result) == 2 and np.shape(result[0]) == (N_OUT, M):
            label = f"A {x.shape} (one column per sample)" + (f", {rest[0]}={extra[0]!r}" if extra else "")
            found.append((label, x, [w, b, *extra]))
    return found


def mean_columns(
    forward: Callable[..., Any], backward: Callable[[Any], Any], x: np.ndarray, params: dict[str, np.ndarray]
) -> int | None:
    """The number of columns m when the pair divides its parameter gradients by it (the mean
    convention), else None. `forward(x, params)` returns the output, `backward(dout)` the
    parameter gradients of the last forward, by name; both run on copies."""
    return _divided_by(forward, backward, x, params, rows=False)


def mean_rows(
    forward: Callable[..., Any], backward: Callable[[Any], Any], x: np.ndarray, params: dict[str, np.ndarray]
) -> int | None:
    """The number of rows n of `x` (its features) when a pair over columns divides its parameter
    gradients by it where the mean convention divides by the number of columns m (`m = A_prev.shape[0]`
    with one sample per column), else None; never when n equals m."""
    return _divided_by(forward, backward, x, params, rows=True)


def _divided_by(
    forward: Callable[..., Any], backward: Callable[[Any], Any], x: np.ndarray, params: dict[str, np.ndarray], rows: bool
) -> int | None:
    """`mean_columns`, or with `rows` `mean_rows`: the count the parameter gradients are divided by."""
    if not (isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] >= 2 and params):
        return None
    m = x.shape[1]
    divisor = x.shape[0] if rows else m
    if rows and (divisor == m or divisor < 2):
        return None
    if not any(p.ndim == 2 and p.shape[1] == x.shape[0] and p.shape != (m, m) for p in params.values()):
        return None  # no W (n_out, n_in) applied to columns
    out = _trial(lambda: forward(x.copy(), {k: v.copy() for k, v in params.items()}))
    if not (isinstance(out, np.ndarray) and out.ndim == 2 and out.shape[1] == m):
        return None
    rng = np.random.default_rng(0)
    dout = rng.standard_normal(out.shape)
    grads = _trial(lambda: backward(dout.copy()))
    if not isinstance(grads, dict):
        return None
    h = 1e-6
    for name, value in params.items():
        grad = grads.get(name)
        if not (isinstance(grad, np.ndarray) and grad.shape == value.shape):
            continue
        v = rng.standard_normal(value.shape)

        def objective(sign: float, name: str = name, v: np.ndarray = v) -> float:
            moved = {k: (p + sign * h * v if k == name else p).copy() for k, p in params.items()}
            return float(np.sum(dout * np.asarray(forward(x.copy(), moved), dtype=np.float64)))

        ends = [_trial(lambda s=s: objective(s)) for s in (1.0, -1.0)]
        if any(e is None for e in ends):
            return None
        numerical = (ends[0] - ends[1]) / (2 * h)
        analytic = float(np.sum(grad * v))
        scale = max(abs(numerical), 1e-8)
        if abs(divisor * analytic - numerical) <= CLOSE * scale and abs(analytic - numerical) > 0.1 * scale:
            return divisor
    return None
