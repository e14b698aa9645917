"""What the probe trains on: learnable synthetic data of the network's shapes, or the user's --data file."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.training.settings import CLUSTER_NOISE, TRAIN_SAMPLES


@dataclass
class Data:
    x: np.ndarray
    t: np.ndarray
    label: str  # "synthetic: 10 Gaussian clusters in 784-D", "your data (mnist.npz)"


def synthetic_data(x_shape: tuple[int, ...], classes: int, rng: np.random.Generator, n: int = TRAIN_SAMPLES) -> Data:
    """Class-dependent Gaussian clusters with one-hot targets.

    Each sample is its class centre plus noise. The features are scaled so that a
    sample's squared length is about min(D, 100): unit-variance features for small
    inputs, the length of a normalised MNIST digit for 784 pixels.
    """
    d = int(np.prod(x_shape)) if x_shape else 1
    scale = math.sqrt(min(d, 100) / d)
    centres = rng.standard_normal((classes, *x_shape))
    labels = rng.permutation(np.arange(n) % classes)
    x = scale * (centres[labels] + CLUSTER_NOISE * rng.standard_normal((n, *x_shape)))
    shape = "x".join(str(s) for s in x_shape)
    return Data(x, np.eye(classes)[labels], f"synthetic: {classes} Gaussian clusters in {shape}-D")


def user_data(path: str) -> Data:
    """x and t from an .npz file (also accepts x_train / t_train or y)."""
    with np.load(path, allow_pickle=False) as npz:
        keys = set(npz.files)
        x_key = next((k for k in ("x", "x_train", "X") if k in keys), None)
        t_key = next((k for k in ("t", "t_train", "y", "y_train", "T") if k in keys), None)
        if x_key is None or t_key is None:
            raise ValueError(f"it holds {sorted(keys)}, not x and t")
        x, t = np.asarray(npz[x_key], dtype=np.float64), np.asarray(npz[t_key])
    if len(x) != len(t) or len(x) == 0:
        raise ValueError(f"x has {len(x)} samples and t has {len(t)}")
    return Data(x, t, f"your data ({os.path.basename(path)}, {len(x)} samples)")


def data_for(case: tuple[str, np.ndarray, Any], data_path: str | None, rng: np.random.Generator) -> tuple[Data, str | None]:
    """The probe's data for a network built with the (label, x, t) case; and a note when --data failed."""
    _, x, t = case
    note = None
    if data_path:
        try:
            return user_data(data_path), None
        except Exception as error:  # a file the user gave us
            note = f"could not use --data {data_path} ({type(error).__name__}: {error}); used synthetic data"
    t = np.asarray(t)
    if t.ndim == 2:
        classes = t.shape[1]
    elif t.size and t.dtype.kind in "iu":
        classes = int(t.max()) + 1
    else:
        classes = 4
    return synthetic_data(tuple(np.shape(x)[1:]), max(classes, 2), rng), note


def _as_labels(t: np.ndarray) -> np.ndarray:
    return np.argmax(t, axis=1) if t.ndim == 2 else t
