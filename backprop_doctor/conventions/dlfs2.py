"""DLFS-2 layers (*Deep Learning from Scratch 2*): `params` and `grads` lists.

The constructor binds `self.params = [W, b]` and `self.grads = [np.zeros_like(W),
np.zeros_like(b)]`; backward writes into the gradient arrays in place
(`self.grads[0][...] = dW`) so the network's own `grads` list sees them.

Example:
    class Affine:
        def __init__(self, W, b):
            self.params = [W, b]
            self.grads = [np.zeros_like(W), np.zeros_like(b)]

        def forward(self, x):
            W, b = self.params
            self.x = x
            return np.dot(x, W) + b

        def backward(self, dout):
            W, b = self.params
            self.grads[0][...] = np.dot(self.x.T, dout)
            self.grads[1][...] = np.sum(dout, axis=0)
            return np.dot(dout, W.T)

Recognised by: `forward`/`backward` methods and a constructor that assigns both
`params` and `grads`; confirmed on the built object (both are lists, `params` of
arrays). Gradients live in `grads[i]`, named after the constructor's arguments.
"""

from __future__ import annotations

import re

from typing import Any

from backprop_doctor.conventions._base import TRAIN_FLAGS, parameters
from backprop_doctor.conventions._classlayer import Methods, function_node
from backprop_doctor.static.methods import assigned_attributes

NAME = "dlfs2"
ORDER = 20


def layer_methods(cls: type) -> Methods | None:
    if not (callable(getattr(cls, "forward", None)) and callable(getattr(cls, "backward", None))):
        return None
    init = function_node(getattr(cls, "__init__", None))
    if init is not None and {"params", "grads"} <= assigned_attributes(init):
        return Methods(convention=NAME)
    return None


def dlfs2_names(layer: Any, listed: str = "params") -> list[str]:
    """Names for the entries of a DLFS-2 `params` list (or the list `listed` names): the
    constructor's argument names when they match in number (`Affine(W, b)` → W, b), else
    `params[i]` (`weights[i]`)."""
    n = len(getattr(layer, listed))
    if listed != "params":  # `self.weights = [...]` built in a loop: the constructor's arguments are sizes
        return [f"{listed}[{i}]" for i in range(n)]
    init_args = [p for p in parameters(type(layer).__init__) if p != "self"]
    arrays = [a for a in init_args if a not in TRAIN_FLAGS][:n]
    if len(arrays) == n and all(a.isidentifier() and not _SETTING.search(a) for a in arrays):
        return arrays
    return [f"{listed}[{i}]" for i in range(n)]


# constructor arguments that are sizes or settings, not the arrays `params` lists: `Encoder(vocab_size,
# wordvec_size)` or `PositionWiseFfn(d_m, d_ff, b1_scale, b2_scale)` make their weights themselves
_SETTING = re.compile(r"(?i)size|dim|num|count|len|scale|rate|ratio|std|eps|momentum|units|nodes|heads|vocab|^d_|^n_")
