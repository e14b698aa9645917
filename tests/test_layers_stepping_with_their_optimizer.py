"""Layers that step their weights in backward with an optimizer object they hold.

`Dense(n_units)` learns its input width from `set_input_shape(shape)` and makes its weights, with
a copy of the optimizer for each, in `initialize(optimizer)`, both called by the network that adds
it; backward computes each gradient and binds the weight to the optimizer's update of it. The
layer is set up with one sample's shape and a rate-1 optimizer, and each gradient is read off the
step it takes.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
    import copy
    import numpy as np


    class Layer:
        def set_input_shape(self, shape):
            self.input_shape = shape


    class Dense(Layer):
        def __init__(self, n_units, input_shape=None):
            self.n_units = n_units
            self.input_shape = input_shape
            self.W = None
            self.b = None

        def initialize(self, optimizer):
            scale = 1 / np.sqrt(self.input_shape[0])
            self.W = np.random.uniform(-scale, scale, (self.input_shape[0], self.n_units))
            self.b = np.zeros((1, self.n_units))
            self.W_opt = copy.copy(optimizer)
            self.b_opt = copy.copy(optimizer)

        def forward_pass(self, X, training=True):
            self.X = X
            return X @ self.W + self.b

        def backward_pass(self, grad):
            W = self.W
            grad_W = self.X.T @ grad
            grad_b = grad.sum(axis=0, keepdims=True)
            self.W = self.W_opt.update(self.W, grad_W)
            self.b = self.b_opt.update(self.b, grad_b)
            return grad @ W.T
"""


def test_a_layer_stepping_with_its_optimizer_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"]} == {
        ("Dense", "x", "ok"), ("Dense", "W", "ok"), ("Dense", "b", "ok"),
    }  # fmt: skip
    (built,) = report["built"]
    assert built["how"] == "Dense(n_units=4, input_shape=None) then set_input_shape((12,)) then initialize(UnitStep())"


def test_a_weight_step_with_the_gradient_halved_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "grad_W = self.X.T @ grad", "grad_W = 0.5 * self.X.T @ grad")
    report = check(path)
    (wrong,) = [f for f in errors(report) if f["name"] == "gradient-mismatch"]
    assert (wrong["layer"], wrong["param"]) == ("Dense", "W")
    assert wrong["line"] == line_of(path, "grad_W = 0.5 * self.X.T @ grad")
