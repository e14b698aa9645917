"""NumPy stand-ins for the scikit-learn helpers that hand-written networks lean on.

A script that trains its own NumPy network still splits, shuffles, scales and one-hot encodes its
data with scikit-learn (`train_test_split`, `sklearn.utils.shuffle`, `StandardScaler`,
`OneHotEncoder`). backprop-doctor does not depend on scikit-learn; where it is missing these take
the helpers' place with their documented behaviour (shapes, defaults, return order), so the
program reaches its training loop and is checked rather than stopping at its data. The data sets
themselves (`make_moons`, `load_iris`, ...) are synthetic loaders in `loading.datasets`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_PREPROCESSING = ("StandardScaler", "MinMaxScaler", "OneHotEncoder", "LabelBinarizer", "LabelEncoder")
HOMES: dict[str, tuple[str, ...]] = {  # a missing module -> the names stood in for in it
    "sklearn.model_selection": ("train_test_split",),
    "sklearn.cross_validation": ("train_test_split",),
    "sklearn.utils": ("shuffle",),
    "sklearn.preprocessing": _PREPROCESSING,
    "sklearn.metrics": ("accuracy_score",),
    "keras.utils": ("to_categorical",),
    "keras.utils.np_utils": ("to_categorical",),
    "tensorflow.keras.utils": ("to_categorical",),
}


def functions_of(module: str) -> tuple[str, ...]:
    """The names of the missing `module` stood in for here (`datasets.standin` asks every such module)."""
    return HOMES.get(module, ())


def _rng(random_state: Any) -> np.random.Generator:
    return np.random.default_rng(random_state if isinstance(random_state, int) else 0)


def _index(array: Any, rows: np.ndarray) -> Any:
    return [array[i] for i in rows] if isinstance(array, list) else np.asarray(array)[rows]


def train_test_split(*arrays: Any, test_size: Any = None, train_size: Any = None, random_state: Any = None, shuffle: bool = True, **_: Any) -> list[Any]:
    """[a_train, a_test, b_train, b_test, ...]: a quarter for the test split unless told otherwise,
    rows shuffled together (the same permutation for every array)."""
    n = len(arrays[0])
    if test_size is None:
        test_size = 0.25 if train_size is None else (1 - train_size if isinstance(train_size, float) else n - train_size)
    tests = int(np.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    order = _rng(random_state).permutation(n) if shuffle else np.arange(n)
    test, train = order[:tests], order[tests:]
    return [part for array in arrays for part in (_index(array, train), _index(array, test))]


def shuffle(*arrays: Any, random_state: Any = None, n_samples: Any = None, **_: Any) -> Any:
    """`sklearn.utils.shuffle`: the arrays' rows in one random order (one array: that array)."""
    n = len(arrays[0])
    order = _rng(random_state).permutation(n)[: n_samples or n]
    shuffled = [_index(array, order) for array in arrays]
    return shuffled[0] if len(shuffled) == 1 else shuffled


class _Transformer:
    def fit_transform(self, x: Any, y: Any = None, **_: Any) -> Any:
        return self.fit(x, y).transform(x)


class StandardScaler(_Transformer):
    """Each column to mean 0 and standard deviation 1 (a constant column is left centred)."""

    def __init__(self, *_: Any, with_mean: bool = True, with_std: bool = True, **__: Any):
        self.with_mean, self.with_std = with_mean, with_std

    def fit(self, x: Any, y: Any = None, **_: Any) -> StandardScaler:
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = x.mean(axis=0) if self.with_mean else np.zeros(x.shape[1:])
        scale = x.std(axis=0) if self.with_std else np.ones(x.shape[1:])
        self.scale_ = np.where(scale == 0, 1.0, scale)
        return self

    def transform(self, x: Any, *_: Any, **__: Any) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_

    def inverse_transform(self, x: Any, *_: Any, **__: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) * self.scale_ + self.mean_


class MinMaxScaler(_Transformer):
    """Each column onto `feature_range`, (0, 1) by default."""

    def __init__(self, feature_range: tuple[float, float] = (0, 1), **_: Any):
        self.low, self.high = feature_range

    def fit(self, x: Any, y: Any = None, **_: Any) -> MinMaxScaler:
        x = np.asarray(x, dtype=np.float64)
        self.data_min_, self.data_max_ = x.min(axis=0), x.max(axis=0)
        return self

    def transform(self, x: Any, *_: Any, **__: Any) -> np.ndarray:
        span = np.where(self.data_max_ > self.data_min_, self.data_max_ - self.data_min_, 1.0)
        return self.low + (np.asarray(x, dtype=np.float64) - self.data_min_) / span * (self.high - self.low)

    def inverse_transform(self, x: Any, *_: Any, **__: Any) -> np.ndarray:
        span = np.where(self.data_max_ > self.data_min_, self.data_max_ - self.data_min_, 1.0)
        return self.data_min_ + (np.asarray(x, dtype=np.float64) - self.low) / (self.high - self.low) * span


class _Dense(np.ndarray):
    """A one-hot matrix that answers `.toarray()` and `.todense()`, as the sparse matrix scikit-learn returns does."""

    def toarray(self) -> np.ndarray:
        return np.asarray(self)

    todense = toarray


class OneHotEncoder(_Transformer):
    """One column per category of each input column, in sorted order; `sparse`/`sparse_output`
    True (the default) gives a matrix with `.toarray()`."""

    def __init__(self, *_: Any, sparse: Any = True, sparse_output: Any = None, **__: Any):
        self.sparse = sparse if sparse_output is None else sparse_output

    def fit(self, x: Any, y: Any = None, **_: Any) -> OneHotEncoder:
        x = np.asarray(x)
        columns = x.reshape(len(x), -1)
        self.categories_ = [np.unique(columns[:, j]) for j in range(columns.shape[1])]
        return self

    def transform(self, x: Any, *_: Any, **__: Any) -> Any:
        columns = np.asarray(x).reshape(len(x), -1)
        parts = [(columns[:, [j]] == c[None, :]).astype(np.float64) for j, c in enumerate(self.categories_)]
        out = np.concatenate(parts, axis=1)
        return out.view(_Dense) if self.sparse else out


class LabelBinarizer(_Transformer):
    """Labels to one-hot rows (two classes: one column of 0/1, as scikit-learn gives)."""

    def fit(self, y: Any, *_: Any, **__: Any) -> LabelBinarizer:
        self.classes_ = np.unique(np.asarray(y))
        return self

    def transform(self, y: Any, *_: Any, **__: Any) -> np.ndarray:
        hot = (np.asarray(y).reshape(-1, 1) == self.classes_[None, :]).astype(np.int64)
        return hot[:, 1:] if len(self.classes_) == 2 else hot

    def fit_transform(self, y: Any, *_: Any, **__: Any) -> np.ndarray:
        return self.fit(y).transform(y)

    def inverse_transform(self, hot: Any, *_: Any, **__: Any) -> np.ndarray:
        hot = np.asarray(hot)
        return self.classes_[(hot[:, 0] > 0.5).astype(int)] if hot.shape[1] == 1 else self.classes_[hot.argmax(axis=1)]


class LabelEncoder(_Transformer):
    """Labels to 0..K-1 in sorted order."""

    def fit(self, y: Any, *_: Any, **__: Any) -> LabelEncoder:
        self.classes_ = np.unique(np.asarray(y))
        return self

    def transform(self, y: Any, *_: Any, **__: Any) -> np.ndarray:
        return np.searchsorted(self.classes_, np.asarray(y))

    def fit_transform(self, y: Any, *_: Any, **__: Any) -> np.ndarray:
        return self.fit(y).transform(y)

    def inverse_transform(self, codes: Any, *_: Any, **__: Any) -> np.ndarray:
        return self.classes_[np.asarray(codes)]


def accuracy_score(y_true: Any, y_pred: Any, *_: Any, **__: Any) -> float:
    return float(np.mean(np.asarray(y_true).ravel() == np.asarray(y_pred).ravel()))


def to_categorical(y: Any, num_classes: Any = None, *_: Any, **__: Any) -> np.ndarray:
    """`keras.utils.to_categorical`: integer labels to float32 one-hot rows."""
    labels = np.asarray(y, dtype=np.int64).ravel()
    classes = int(num_classes) if num_classes is not None else int(labels.max()) + 1
    return np.eye(classes, dtype=np.float32)[labels]
