"""Layers whose backward updates their weights through an optimizer object they hold.

The layer is handed an optimizer when the network adds it (`initialize(optimizer)` keeps a copy
per weight), and its backward computes each gradient, steps the weight with it
(`self.W = self.W_opt.update(self.W, grad_w)`) and returns the input gradient, as
ML-From-Scratch's layers do. The gradients are never stored: they are read off the step the
layer takes with `UnitStep`, an optimizer whose update is `w - grad` (a rate of 1), handed over
when the layer is set up (`build._set_up`), and the step is undone.

Example:
    class Dense:
        def __init__(self, n_units, input_shape=None):
            self.n_units, self.input_shape, self.W, self.b = n_units, input_shape, None, None

        def initialize(self, optimizer):
            self.W = 0.1 * np.random.randn(self.input_shape[0], self.n_units)
            self.b = np.zeros((1, self.n_units))
            self.W_opt, self.b_opt = copy.copy(optimizer), copy.copy(optimizer)

        def forward_pass(self, X, training=True):
            self.X = X
            return X @ self.W + self.b

        def backward_pass(self, grad):
            W = self.W
            self.W = self.W_opt.update(self.W, self.X.T @ grad)
            self.b = self.b_opt.update(self.b, grad.sum(axis=0, keepdims=True))
            return grad @ W.T

Recognised by: a pair of layer methods (`forward`/`backward`, `forward_pass`/`backward_pass`, ...)
whose backward binds a weight to an optimizer's update of it. Gradients live in the step.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from backprop_doctor.conventions._classlayer import Methods
from backprop_doctor.conventions.renamed import PAIRS, stored

NAME = "optimizer-objects"
ORDER = 45  # before `renamed`, which would call the same pair with the weights' steps unread
OPTIMIZER = "optimizer"  # the name the update is made under (`Methods.learning_rate`)
_STEPPED = re.compile(r"(\w+)\.(\w+)\s*=\s*\1\.\w+\.update\(\s*\1\.\2\s*,")


class UnitStep:
    """An optimizer whose update of a weight is the weight minus its gradient: what the layer
    steps by is the gradient itself."""

    def update(self, w: Any, grad_wrt_w: Any) -> Any:
        return w - np.asarray(grad_wrt_w)


def layer_methods(cls: type) -> Methods | None:
    for forward, backward in (("forward", "backward"), *PAIRS):
        method = getattr(cls, backward, None)
        if not (callable(getattr(cls, forward, None)) and callable(method)):
            continue
        try:
            source = inspect.getsource(method)
        except (TypeError, OSError):
            return None
        if not _STEPPED.search(source):
            return None
        output, dx = stored(cls, forward, backward)
        return Methods(convention=NAME, forward=forward, backward=backward, output=output, dx=dx, learning_rate=OPTIMIZER, held_optimizer=True)
    return None
