"""Stand-ins for the helper modules of the Coursera deep-learning notebooks.

The notebooks' programs import their data and a few helpers from files the
course ships beside them (`planar_utils.py`, `lr_utils.py`, `dnn_app_utils_v3.py`,
`init_utils.py`, `opt_utils.py`, `reg_utils.py`, `gc_utils.py`), which a user's copy rarely
has. Without them the program stops at its first line of data and nothing it
trains can be observed. These functions take their place:

- the data loaders return synthetic data of the documented shapes, in the
  course's (features, samples) layout: `load_planar_dataset()` -> X (2, 400),
  Y (1, 400); the cat images of `lr_utils.load_dataset()` and
  `dnn_app_utils.load_data()` -> (209, 64, 64, 3) uint8 images, (1, 209)
  labels, 50 test images, the two class names; `init_utils.load_dataset()`,
  `opt_utils.load_dataset()`, `reg_utils.load_2D_dataset()` -> 2-D points;
- the activation helpers the student's code calls are the standard ones, with
  the course's return conventions: `dnn_utils.sigmoid(Z)` and `relu(Z)`
  return `(A, cache)`, `sigmoid_backward(dA, cache)` and `relu_backward(dA,
  cache)` return `dZ`; `planar_utils.sigmoid(x)` (and the `init`, `reg`, `opt`
  and `gc` helpers' `sigmoid` and `relu`) return the activation alone;
  `rnn_utils.softmax(x)` normalises each column (one sample per column);
- the regularisation notebook's `reg_utils.forward_propagation(X, parameters)` (three layers,
  ReLU, ReLU, sigmoid, with its cache tuple), `compute_cost` and `initialize_parameters`, so the
  student's `backward_propagation_with_regularization` has the forward it differentiates.

`from rnn_utils import *` of a missing helper module brings these names too
(`datasets.star_names`), as the real module would.

With `h5py` missing, `h5py.File(...)` on the course's own data files
(`train_catvnoncat.h5`, `test_signs.h5`, ...) gives the same synthetic arrays
under the files' own keys. Every loader call is recorded (`datasets.REPLACED`) so the report says the data
was synthetic. Plots and printing helpers stay ordinary stand-ins (they do nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.loading.datasets import _record


def _points(n: int, seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """n 2-D points, (2, n), and their 0/1 labels, (1, n): petals, circles or moons."""
    rng = np.random.default_rng([n, seed])
    if kind == "petals":
        theta = rng.uniform(0, 2 * np.pi, n)
        radius = 4 * np.abs(np.sin(2 * theta)) * rng.uniform(0.3, 1.0, n)
        labels = (np.sin(4 * theta) > 0).astype(np.uint8)
        x = np.stack([radius * np.cos(theta), radius * np.sin(theta)])
    elif kind == "circles":
        labels = rng.integers(0, 2, n).astype(np.int64)
        radius = np.where(labels == 1, 0.5, 1.0) + 0.08 * rng.standard_normal(n)
        theta = rng.uniform(0, 2 * np.pi, n)
        x = np.stack([radius * np.cos(theta), radius * np.sin(theta)])
    else:  # moons
        labels = rng.integers(0, 2, n).astype(np.int64)
        theta = rng.uniform(0, np.pi, n)
        x = np.stack([np.cos(theta) + labels, np.sin(theta) * (1 - 2 * labels) + 0.5 * labels])
        x += 0.15 * rng.standard_normal(x.shape)
    return x, labels.reshape(1, n)


def load_planar_dataset(*_: Any, **__: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _points(400, 0, "petals")
    _record("planar_utils.load_planar_dataset", f"X {x.shape}, Y {y.shape}")
    return x, y


def _cats(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 64×64 RGB uint8 images and (1, n) 0/1 labels: each class a noisy copy of its own prototype."""
    rng = np.random.default_rng([64, n, seed])
    prototypes = rng.random((2, 64, 64, 3))
    labels = rng.integers(0, 2, n)
    images = prototypes[labels] + 0.3 * rng.standard_normal((n, 64, 64, 3))
    return np.clip(np.round(255 * images), 0, 255).astype(np.uint8), labels.reshape(1, n).astype(np.int64)


def load_cats(name: str) -> Callable[..., Any]:
    def load(*_: Any, **__: Any) -> Any:
        train_x, train_y = _cats(209, 0)
        test_x, test_y = _cats(50, 1)
        _record(name, f"train images {train_x.shape} uint8, labels {train_y.shape}, {test_x.shape[0]} test images")
        return train_x, train_y, test_x, test_y, np.array([b"non-cat", b"cat"])

    return load


def load_points(name: str, kind: str, sizes: tuple[int, int], test: bool = True) -> Callable[..., Any]:
    def load(*_: Any, **__: Any) -> Any:
        train_x, train_y = _points(sizes[0], 0, kind)
        _record(name, f"train_X {train_x.shape}, train_Y {train_y.shape}")
        if not test:
            return train_x, train_y
        test_x, test_y = _points(sizes[1], 1, kind)
        return train_x, train_y, test_x, test_y

    return load


class _H5(dict):
    """What `h5py.File(path, "r")` gives the course's loaders: named arrays, usable in a `with`."""

    def __enter__(self) -> _H5:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


def _h5_arrays(name: str) -> dict[str, np.ndarray] | None:
    """The arrays of the course's .h5 files, by file name: cat / non-cat images, hand signs."""
    base = name.rsplit("/", 1)[-1].lower()
    split = "train" if base.startswith("train") else "test"
    if "catvnoncat" in base:
        images, labels = _cats(209 if split == "train" else 50, 0 if split == "train" else 1)
        return {f"{split}_set_x": images, f"{split}_set_y": labels.ravel(), "list_classes": np.array([b"non-cat", b"cat"])}
    if "signs" in base:
        n = 1080 if split == "train" else 120
        rng = np.random.default_rng([6, n])
        labels = rng.integers(0, 6, n)
        prototypes = np.random.default_rng(6).random((6, 64, 64, 3))
        images = np.clip(np.round(255 * (prototypes[labels] + 0.3 * rng.standard_normal((n, 64, 64, 3)))), 0, 255).astype(np.uint8)
        return {f"{split}_set_x": images, f"{split}_set_y": labels.astype(np.int64), "list_classes": np.arange(6)}
    return None


def h5_file(name: Any, *_: Any, **__: Any) -> Any:
    """`h5py.File(...)` with h5py missing: the course's data files as synthetic arrays; anything else a stand-in."""
    arrays = _h5_arrays(str(name))
    if arrays is None:
        from backprop_doctor.loading.stubs import Stub

        return Stub("h5py.File")
    shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items() if k != "list_classes")
    _record(f"h5py.File({str(name)!r})", shapes)
    return _H5(arrays)


def sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def sigmoid_with_cache(z: Any) -> tuple[Any, Any]:
    return 1 / (1 + np.exp(-z)), z


def relu_with_cache(z: Any) -> tuple[Any, Any]:
    return np.maximum(0, z), z


def sigmoid_backward(da: Any, cache: Any) -> Any:
    s = 1 / (1 + np.exp(-cache))
    return da * s * (1 - s)


def relu_backward(da: Any, cache: Any) -> Any:
    dz = np.array(da, copy=True)
    dz[cache <= 0] = 0
    return dz


def relu(x: Any) -> Any:
    return np.maximum(0, x)


def softmax_columns(x: Any) -> Any:
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def forward_propagation(X: Any, parameters: Any) -> tuple[Any, tuple]:
    """The regularisation notebook's LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID, with its cache
    `(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)`, which the student's backward unpacks."""
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = W1 @ X + b1
    A1 = np.maximum(0, Z1)
    Z2 = W2 @ A1 + b2
    A2 = np.maximum(0, Z2)
    Z3 = W3 @ A2 + b3
    A3 = 1 / (1 + np.exp(-Z3))
    return A3, (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)


def compute_cost(a3: Any, Y: Any) -> float:
    """The course's mean binary cross-entropy over the samples (one per column)."""
    m = Y.shape[1]
    return float(np.sum(-(Y * np.log(a3) + (1 - Y) * np.log(1 - a3))) / m)


def initialize_parameters(layer_dims: Any) -> dict[str, Any]:
    """He-scaled weights for `layer_dims`, zero biases, as the course's initialiser keys them."""
    rng = np.random.default_rng(3)
    return {
        name: value
        for l in range(1, len(layer_dims))
        for name, value in (
            (f"W{l}", rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2.0 / layer_dims[l - 1])),
            (f"b{l}", np.zeros((layer_dims[l], 1))),
        )
    }


_DNN = r"(^|\.)dnn_(app_)?utils\w*\."
STANDINS: list[tuple[str, Callable[..., Any]]] = [
    (r"(^|\.)h5py\.File$", h5_file),
    (r"(^|\.)load_planar_dataset$", load_planar_dataset),
    (r"(^|\.)lr_utils\.load_dataset$", load_cats("lr_utils.load_dataset")),
    (_DNN + r"load_data$", load_cats("dnn_app_utils.load_data")),
    (r"(^|\.)init_utils\.load_dataset$", load_points("init_utils.load_dataset", "circles", (300, 100))),
    (r"(^|\.)opt_utils\w*\.load_dataset$", load_points("opt_utils.load_dataset", "moons", (300, 0), test=False)),
    (r"(^|\.)reg_utils\.load_2D_dataset$", load_points("reg_utils.load_2D_dataset", "moons", (211, 200))),
    (_DNN + r"sigmoid$", sigmoid_with_cache),
    (_DNN + r"relu$", relu_with_cache),
    (_DNN + r"sigmoid_backward$", sigmoid_backward),
    (_DNN + r"relu_backward$", relu_backward),
    (r"(^|\.)(planar|init|reg|opt|gc)_utils\w*\.sigmoid$", sigmoid),
    (r"(^|\.)(init|reg|opt|gc)_utils\w*\.relu$", relu),
    (r"(^|\.)rnn_utils\w*\.sigmoid$", sigmoid),
    (r"(^|\.)rnn_utils\w*\.softmax$", softmax_columns),
    (r"(^|\.)reg_utils\.forward_propagation$", forward_propagation),
    (r"(^|\.)reg_utils\.compute_cost$", compute_cost),
    (r"(^|\.)reg_utils\.initialize_parameters$", initialize_parameters),
]



__all__ = ["STANDINS"]
