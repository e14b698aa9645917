"""Whole models whose backward takes the prediction and the target, not an upstream gradient.

`forward(X)` returns the prediction; `backward(y_pred, y_true)` computes the
loss of that prediction itself, its gradients, and (usually) the update of the
weights, and returns the loss. There is no upstream gradient to send back and
no separate loss to differentiate, so the object is not a layer: it is
recognised and named as not checked, never called as `backward(dout)`.

Example:
    class BinaryMLP:
        def forward(self, X):
            self.X = X
            self.h = np.maximum(0, X @ self.W1 + self.b1)
            return sigmoid(self.h @ self.W2 + self.b2).ravel()

        def backward(self, y_pred, y_true):
            loss = -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
            d_out = (y_pred - y_true).reshape(-1, 1) / len(y_pred)
            ...
            self.W2 -= self.lr * self.h.T @ d_out
            return loss

Recognised by: `forward` taking one input, and `backward` taking two, the first
named like a prediction (`y_pred`, `output`, `probs`) and the second like a
target (`y_true`, `y`, `labels`); or `backward()` taking nothing beside a
`loss(x, t)` that it starts from. Not checked yet: the report names it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop_doctor.conventions._base import parameters
from backprop_doctor.conventions._classlayer import required_inputs
from backprop_doctor.conventions._run import Case, NotChecked
from backprop_doctor.conventions.loss_objects import PREDICTIONS, TARGETS

NAME = "model-backward"
KIND = "class"
ORDER = 13


def _arguments(cls: type) -> list[str] | None:
    """backward's arguments (prediction, target), or [] for a `backward()` that starts from
    what `loss(x, t)` left behind; None when the class is not such a model."""
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)) or len(required_inputs(forward)) != 1:
        return None
    names = [n.lower() for n in required_inputs(backward)]
    if len(names) == 2 and names[0] in PREDICTIONS and names[1] in TARGETS:
        return names
    loss = getattr(cls, "loss", None)
    if not names and not [p for p in parameters(backward)] and callable(loss) and len(required_inputs(loss)) == 2:
        return []
    return None


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    return _arguments(cls) is not None


def label(obj: Any) -> str:
    return obj.__name__


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    arguments = _arguments(cls)
    if not arguments:
        raise NotChecked("its backward() starts from the loss that `loss(x, t)` computed, not from an upstream gradient: not checked yet")
    prediction, target = arguments
    raise NotChecked(
        f"its backward({prediction}, {target}) starts from the prediction and the target, not from an upstream "
        "gradient (it computes its own loss): not checked yet"
    )
