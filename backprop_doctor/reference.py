"""Correct versions of the standard pieces, to swap in for a faulty one.

The training probe confirms a root cause by training the user's network a
second time with one piece replaced by its reference here: if the loss then
falls, that piece was the cause. Each layer speaks both conventions a
learner's network may expect of it:

* book style: `forward(x)`, `backward(dout)`, gradients left in attributes
  (`dW`, `db`) that the network's `gradient` reads;
* DLFS-2 style: `params` and `grads` lists, gradients written into the
  existing `grads` arrays with `[...] =`, because the network's own `grads`
  list holds those very arrays.

`Affine` keeps the arrays it is given (no copy), so an in-place update of the
network's `params` reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, MutableSequence
from typing import Any

import numpy as np

__all__ = ["Affine", "Relu", "Sigmoid", "SoftmaxWithLoss", "log_softmax", "sgd_update", "softmax"]


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, exact (no `+ 1e-7`) and stable for large scores."""
    z = x - np.max(x, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def softmax(x: np.ndarray) -> np.ndarray:
    """softmax of each row (of a 1-D vector: of the vector)."""
    return np.exp(log_softmax(x))


def _labels(t: Any, n: int, classes: int) -> np.ndarray:
    """Integer class labels of `n` samples, from one-hot rows or from labels."""
    t = np.asarray(t)
    if classes > 1 and t.size == n * classes and (t.ndim == 2 or n == 1):
        return np.argmax(t.reshape(n, classes), axis=1)
    return t.reshape(-1).astype(np.intp)


class SoftmaxWithLoss:
    """Per-row softmax and mean cross-entropy; `t` is one-hot or integer labels; `x` is (N, C) or (C,)."""

    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.loss: float | None = None
        self.y: np.ndarray | None = None  # softmax output, same shape as x
        self.t: np.ndarray | None = None  # the target as given
        self._labels: np.ndarray | None = None
        self._single = False

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        self._single = x.ndim == 1
        scores = x.reshape(1, -1) if self._single else x
        labels = _labels(t, *scores.shape)
        log_y = log_softmax(scores)
        self.t = t
        self._labels = labels
        self.y = np.exp(log_y).reshape(x.shape)
        n = scores.shape[0]
        self.loss = float(-np.mean(log_y[np.arange(n), labels]))
        return self.loss

    def backward(self, dout: Any = 1) -> np.ndarray:
        assert self.y is not None and self._labels is not None, "forward first"
        y = self.y.reshape(1, -1) if self._single else self.y
        n = y.shape[0]
        dx = y.copy()
        dx[np.arange(n), self._labels] -= 1.0  # d(-log y_t)/dx = y - onehot(t)
        dx = dx * (dout / n)
        return dx.reshape(self.y.shape)


class Relu:
    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.mask: np.ndarray | None = None  # True where the input was <= 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self.mask, 0.0, dout)  # never writes into dout


class Sigmoid:
    def __init__(self) -> None:
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # exp of a non-positive number only: no overflow warnings for large |x|
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.out * (1.0 - self.out)


class Affine:
    """`x @ W + b` for x of shape (N, D) or (N, d1, d2, ...) (flattened to (N, D)).

    `W` and `b` are used as given, not copied. Pass `grads=[dW, db]` to have the
    gradients written into those arrays (DLFS-2 networks hold them in their own
    `grads` list); `dW` and `db` always name the latest gradients.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, grads: list[np.ndarray] | None = None):
        self.W, self.b = W, b
        self.params = [W, b]
        given = grads is not None and len(grads) == 2 and [np.shape(g) for g in grads] == [W.shape, b.shape]
        self.grads = grads if given else [np.zeros_like(W), np.zeros_like(b)]
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self.x: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        self.x = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
        return self.x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.x is not None and self._shape is not None, "forward first"
        x2 = self.x.reshape(1, -1) if self.x.ndim == 1 else self.x
        d2 = dout.reshape(1, -1) if np.ndim(dout) == 1 else dout
        self.grads[0][...] = x2.T @ d2
        self.grads[1][...] = d2.sum(axis=0)
        self.dW, self.db = self.grads
        return (dout @ self.W.T).reshape(self._shape)


def sgd_update(
    params: MutableMapping[Any, np.ndarray] | MutableSequence[np.ndarray],
    grads: Mapping[Any, Any] | list[Any],
    lr: float,
) -> list[Any]:
    """`params[k] -= lr * grads[k]` in place, for a dict or a list of arrays.

    The arrays themselves are changed, so every layer that holds them sees the
    update. A parameter whose gradient is missing or of another shape is left
    alone; the keys of those are returned.
    """
    keys = list(params.keys()) if isinstance(params, Mapping) else list(range(len(params)))
    skipped = []
    for k in keys:
        p = params[k]
        try:
            g = grads[k]
        except (KeyError, IndexError, TypeError):
            g = None
        if not isinstance(p, np.ndarray) or g is None or np.shape(g) != p.shape:
            skipped.append(k)
            continue
        p -= lr * np.asarray(g, dtype=p.dtype)
    return skipped
