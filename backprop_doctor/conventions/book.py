"""Book-style layer classes (*Deep Learning from Scratch*, chapter 5 onwards).

`forward(x[, train_flg])` returns the output, `backward(dout)` returns dx and
stores each parameter's gradient as an attribute named after it (`W` → `dW`,
`gamma` → `dgamma`, also `grad_W`, `W_grad`, `d_W`). A loss layer's forward
takes the target too, `forward(x, t)` → a scalar, and its backward `dout=1`.

Example:
    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)

Recognised by: a class with callable `forward` and `backward` (and a trial
forward on an input of the shape its weights imply, in `build`). Gradients
live in the attributes named after the parameters.
"""

from __future__ import annotations

from backprop_doctor.conventions._classlayer import Methods

NAME = "book"
ORDER = 90  # the catch-all class layer: asked after the more specific conventions


def layer_methods(cls: type) -> Methods | None:
    if callable(getattr(cls, "forward", None)) and callable(getattr(cls, "backward", None)):
        return Methods(convention=NAME)
    if callable(getattr(cls, "forward", None)) and _derivative_of_state(cls):
        # CMU 11-785 (2020): `SoftmaxCrossEntropy.forward(x, y)` keeps its state, `derivative()` returns dL/dx
        return Methods(convention=NAME, backward="derivative")
    return None


def _derivative_of_state(cls: type) -> bool:
    """A loss's `derivative()` beside its `forward(x, y)` and no `backward`, taking nothing it must be given:
    what it returns is the gradient of the loss forward kept (an activation's f'(x) is `activations`')."""
    from backprop_doctor.conventions._classlayer import required_inputs

    derivative = getattr(cls, "derivative", None)
    return callable(derivative) and not required_inputs(derivative) and len(required_inputs(getattr(cls, "forward"))) >= 2
