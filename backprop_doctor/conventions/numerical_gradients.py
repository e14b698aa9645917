"""A gradient computed by finite differences: the function every gradient check leans on.

The book's chapter 4 trains its first network with `numerical_gradient(f, x)`, and cs231n
checks every layer against `eval_numerical_gradient(f, x)` and
`eval_numerical_gradient_array(f, x, df)`. A slip there (a step divided by `h` instead of
`2 * h`, a weight never put back, `h = 1e-50` that rounds away) makes training crawl or a
correct layer look wrong. It is checked as what it claims to be: the gradient of a known
function, here one whose every element has a slope of its own.

Example:
    def numerical_gradient(f, x):
        h = 1e-4
        grad = np.zeros_like(x)
        it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            i = it.multi_index
            kept = x[i]
            x[i] = kept + h
            above = f(x)
            x[i] = kept - h
            below = f(x)
            grad[i] = (above - below) / (2 * h)
            x[i] = kept
            it.iternext()
        return grad

Recognised by: a function named `numerical_gradient`, `numerical_grad`,
`eval_numerical_gradient` or with such a prefix (`numerical_gradient_2d`), taking the function
and the point `(f, x)` (the gradient of a scalar `f`) or the function, the point and an
upstream gradient `(f, x, df)` (the gradient of `sum(f(x) * df)`). A name that says `1d` is
checked on a vector only; the others on a vector and on a matrix, each dropped when the
function raises on it or answers with another shape (written for vectors, or for cs231n's
blobs), or hands `f` copies of single rows (the gradient of f at each row, another
question), and nothing checked when it takes neither.
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import Adapter
from backprop_doctor.conventions._classlayer import required_inputs
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "numerical gradients"
KIND = "function"
ORDER = 60
NAMED = re.compile(r"_?(eval_)?numerical_grad(ient)?(_\w+)?")
SHAPES = ((7,), (3, 4))
# A one-sided difference (f(x + h) - f(x)) / h at h = 1e-5 is off by about h·f''/f', 1e-5 to
# 1e-4 here: less accurate than a central one, not wrong. A slip is off by far more.
RTOL = 1e-3


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[Any]:
    """The finite-difference gradients among the file's functions: `(f, x)` or `(f, x, df)`."""
    return [f for name, f in functions.items() if NAMED.fullmatch(name) and len(required_inputs(f)) in (2, 3)]


def label(obj: Any) -> str:
    return obj.__name__


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    """A slope of its own for every element, so a gradient put in the wrong place shows."""
    return np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)


class FiniteDifferences(Adapter):
    """The user's finite-difference gradient seen as a layer: forward a known function of x,
    backward what the user's function says its gradient is (times the upstream gradient)."""

    def __init__(self, func: Any, shape: tuple[int, ...]):
        super().__init__(name=func.__name__, kind="numerical gradient", target=func)
        self.func = func
        self.upstream = len(required_inputs(func)) == 3
        self.weights = _weights(shape)
        self.is_loss = not self.upstream  # a scalar of x: its gradient is the whole answer
        self.rtol = RTOL
        self.dout_is_input = self.upstream
        self._x: np.ndarray | None = None
        self._point: np.ndarray | None = None  # the array the user's function is moving
        self.foreign = False  # f was handed a part of the point that is not the point's memory

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def known(self, x: np.ndarray) -> Any:
        """sin(1.3 x) · w + x² / 4: each element's slope differs, none is flat.

        Handed something other than the whole point (the book's `numerical_gradient_2d` hands
        `f` one row, moved in place), it reads the point itself, as the book's
        `lambda w: net.loss(x, t)` does."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.weights.shape and self._point is not None:
            if not np.shares_memory(x, self._point):
                self.foreign = True  # a gradient of f at each row on its own: another question
            x = self._point
        value = np.sin(1.3 * x) * self.weights + 0.25 * x**2
        return value if self.upstream else np.sum(value)

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        self._x = np.array(x, dtype=np.float64)
        return self.known(x)

    def backward(self, dout: Any = None) -> tuple[np.ndarray | None, dict[str, Any]]:
        assert self._x is not None, "forward first"
        point = self._point = self._x.copy()
        with contextlib.redirect_stdout(io.StringIO()):  # cs231n's prints every element it moves
            if self.upstream:
                grad = self.func(self.known, point, np.array(dout, dtype=np.float64))
            else:
                grad = self.func(self.known, point)
                grad = np.asarray(grad, dtype=np.float64) * (1.0 if dout is None else np.asarray(dout, dtype=np.float64))
        self._point = None
        return np.asarray(grad, dtype=np.float64), {}


def build(func: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    shapes = SHAPES[:1] if "1d" in func.__name__ else SHAPES
    cases = []
    for shape in shapes:
        x = rng.standard_normal(shape)
        adapter = FiniteDifferences(func, shape)
        if not _runs(adapter, x):
            continue  # written for vectors (a matrix is not its case), or not for arrays at all
        cases.append(Case(f"x {shape}", adapter, x))
    if not cases:
        raise NotChecked(f"`{func.__name__}` did not run on a vector")
    return cases


def _runs(adapter: FiniteDifferences, x: np.ndarray) -> bool:
    """Whether the user's function gives an array of x's shape at x."""
    try:
        out = adapter.forward(x.copy())
        grad, _ = adapter.backward(np.ones_like(out) if adapter.upstream else 1.0)
    except Exception:  # noqa: BLE001 - the user's function raised on this shape
        return False
    return grad.shape == x.shape and not adapter.foreign
