"""cs231n linear classifier losses: `svm_loss_naive(W, X, y, reg) -> (loss, dW)`.

Assignment 1's SVM and softmax losses, naive (loops) and vectorized: weights
`W` of shape (D, C) first, data `X` (N, D), integer labels `y` (N,) and the
regularisation strength; the gradient `dW` has the shape of `W`.

Example:
    def softmax_loss_vectorized(W, X, y, reg):
        scores = X.dot(W)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean() + reg * np.sum(W * W)
        p[np.arange(len(y)), y] -= 1
        dW = X.T.dot(p) / len(y) + 2 * reg * W
        return loss, dW

Recognised by: a function whose name says loss with four positional arguments
(the strength may have a default), the first named like weights (`W`, `w`, `theta`)
and the second like data (`X`, `X_batch`, `data`, `inputs`); confirmed by a trial call that returns `(scalar, dW)` with dW shaped
like W. The gradient is the second value returned.
"""

from __future__ import annotations

import re

from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED, Adapter, parameters
from backprop_doctor.conventions._classlayer import required_inputs
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "cs231n-linear"
KIND = "function"
ORDER = 35


# what the data argument is called: `X`, `X_batch`, `data`, `test_data`, `inputs`, `samples`, `images`
_DATA = re.compile(r"(?i)x(?:_\w+)?|(?:\w+_)?(?:data|inputs?|samples|images|features)")


def recognise_functions(functions: dict[str, Any], namespace: dict[str, Any]) -> list[Any]:
    """Four positional arguments, weights then data then labels then the strength (which may have a
    default: `get_loss_and_grad(self, W, test_data, test_labels, reg=0.1)`, a method that reads nothing
    of its instance); at most the strength left to its default."""
    found = []
    for name, f in functions.items():
        required = required_inputs(f)
        names = [n.lower() for n in _positional(f)[:4]]
        if "loss" in name.lower() and len(names) == 4 and len(required) in (3, 4) and required == _positional(f)[: len(required)] and names[0] in ("w", "weights", "theta") and _DATA.fullmatch(names[1]):
            found.append(f)
    return found


def _positional(func: Any) -> list[str]:
    """The names of `func`'s positional parameters, in order (`self` of a bound method left out)."""
    return [p.name for p in parameters(func).values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def label(f: Any) -> str:
    return f.__name__


class LinearLoss(Adapter):
    def __init__(self, func: Any, W: np.ndarray, reg: float):
        super().__init__(name=func.__name__, kind="loss-function", target=func, is_loss=True)
        self._func, self._W, self._reg = func, W, reg
        self.dout_is_input = False
        self._dW: Any = None

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self._W}

    def forward(self, x: np.ndarray, t: Any = None) -> Any:
        loss, self._dW = self._func(self._W, x, t, self._reg)
        return loss

    def backward(self, dout: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
        return None, {"W": self._dW}

    def grad_targets(self, param: str) -> tuple[str, ...]:
        return ("dW", "grad", "dw")


def build(func: Any, context: Any, rng: np.random.Generator) -> list[Case]:
    """Samples in rows (W (D, C), X (N, D)), else in columns as the 2015 assignment had them
    (W (C, D), X (D, N)): the first layout whose trial call returns (loss, dW shaped like W)."""
    n, d, c = max(context.options.batch_size, 6), 7, 4
    y = rng.integers(0, c, n)
    rows = (rng.standard_normal((n, d)), 0.1 * rng.standard_normal((d, c)), "")
    columns = (rows[0].T.copy(), rows[1].T.copy(), ", one sample per column")
    raised: list[Exception | None] = []
    for X, W, layout in (rows, columns):
        works, error = _returns_loss_and_gradient(func, W, X, y)
        if works:
            # and at ten times the scale: scores of 0.1·N(0, 1) weights leave every hinge margin above 0, where a
            # margin's branch that is wrong only for the margins below 0 (the class's own column) never shows
            cases = [Case(f"W {W.shape}, X {X.shape}{layout}, labels, reg 0.1", LinearLoss(func, W, 0.1), X, y)]
            if _hinge(func):
                cases.append(Case(f"W {W.shape} (ten times larger: some margins below 0), X {X.shape}{layout}, labels, reg 0.1", LinearLoss(func, 10 * W, 0.1), X, y))
            return cases
        raised.append(error)
    # A sibling of the same file (`svm_loss_naive` beside `svm_loss_vectorized`) shows which layout the
    # file uses; what this one raised in that layout is the user's own error, reported at its line.
    for (X, W, _layout), error in zip((rows, columns), raised):
        if error is not None and any(_returns_loss_and_gradient(s, W, X, y)[0] for s in _siblings(func, context)):
            raise error
    raise NotChecked(f"`{func.__name__}(W, X, y, reg)` does not return (loss, dW) on W {rows[1].shape}, X {rows[0].shape}, nor with one sample per column")


def _hinge(func: Any) -> bool:
    """A multiclass SVM's hinge loss (`svm_loss_naive`, `margin = scores[j] - correct_class_score + 1`)."""
    import inspect

    try:
        source = inspect.getsource(func)
    except (TypeError, OSError):
        source = ""
    return bool(re.search(r"(?i)svm|hinge", getattr(func, "__name__", "")) or re.search(r"\bmargins?\b", source))


def _siblings(func: Any, context: Any) -> list[Any]:
    """The other linear losses of the same module (`svm_loss_naive` for `svm_loss_vectorized`)."""
    namespace = context.namespace or {}
    functions = {n: f for n, f in namespace.items() if callable(f) and getattr(f, "__module__", None) == func.__module__ and f is not func}
    return recognise_functions(functions, namespace)


def _returns_loss_and_gradient(func: Any, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[bool, Exception | None]:
    """Whether a trial call returns (loss, dW shaped like W); and what it raised, if it did."""
    state = np.random.get_state()
    error = None
    try:
        np.random.seed(FORWARD_SEED)
        result = func(W.copy(), X.copy(), y.copy(), 0.1)
    except Exception as exc:  # noqa: BLE001 - the other layout, or the user's own error: the caller says which
        result, error = None, exc
    finally:
        np.random.set_state(state)
    works = isinstance(result, tuple) and len(result) == 2 and np.shape(result[1]) == W.shape and np.size(result[0]) == 1
    return works, error
