"""What a layer of the user's network is, read from the live object: its kind and its parameter arrays."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from backprop_doctor.conventions._classlayer import is_loss_layer


class _ProbeError(Exception):
    pass


def _kind(layer: Any) -> str | None:
    """"softmax", "relu", "sigmoid" or "affine" when the layer's class name says so."""
    name = type(layer).__name__.lower().replace("_", "")
    if is_loss_layer(layer):
        return "softmax" if any(w in name for w in ("softmax", "crossentropy", "logsoftmax")) else None
    if "relu" in name and not any(w in name for w in ("leaky", "prelu")):
        return "relu"
    if "sigmoid" in name or name == "logistic":
        return "sigmoid"
    if any(w in name for w in ("affine", "linear", "dense", "fullyconnected")) and "nonlinear" not in name:
        return "affine"
    return None


def is_relu(layer: Any) -> bool:
    return _kind(layer) == "relu"


def _owner(array: Any, params: dict[str, np.ndarray], used: Collection[str] = ()) -> str | None:
    """The network parameter that is `array`, else one equal to it not yet `used`."""
    if not isinstance(array, np.ndarray):
        return None
    for k, p in params.items():
        if p is array:
            return k
    for k, p in params.items():
        if k not in used and p.shape == array.shape and np.array_equal(p, array):
            return k
    return None


def _layer_arrays(layer: Any) -> list[tuple[str, np.ndarray]]:
    """(name, array) of a layer's float arrays: attributes, and a DLFS-2 `params` list."""
    found = [(k, v) for k, v in vars(layer).items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    plist = getattr(layer, "params", None)
    if isinstance(plist, list):
        found += [(f"params[{i}]", p) for i, p in enumerate(plist) if isinstance(p, np.ndarray)]
    return found


def _affine_arrays(layer: Any) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None] | None:
    """(W, b, DLFS-2 grads list or None) of an affine layer."""
    plist, glist = getattr(layer, "params", None), getattr(layer, "grads", None)
    if not (isinstance(plist, list) and len(plist) == 2 and all(isinstance(p, np.ndarray) for p in plist)):
        plist = None
    grads = glist if plist and isinstance(glist, list) and len(glist) == 2 else None
    W, b = getattr(layer, "W", None), getattr(layer, "b", None)
    if isinstance(W, np.ndarray) and isinstance(b, np.ndarray):
        return W, b, grads
    if plist:
        return plist[0], plist[1], grads
    return None
