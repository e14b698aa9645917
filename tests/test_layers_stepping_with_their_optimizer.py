"""Layers that step their weights in backward with an optimizer object they hold.

`Dense(n_units)` learns its input width from `set_input_shape(shape)` and makes its weights, with
a copy of the optimizer for each, in `initialize(optimizer)`, both called by the network that adds
it (a `Conv2D` the same, from one image's shape); backward computes each gradient and binds the weight to the optimizer's update of it. The
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


    class Conv2D(Layer):
        def __init__(self, n_filters, filter_shape, input_shape=None):
            self.n_filters, self.filter_shape, self.input_shape = n_filters, filter_shape, input_shape

        def initialize(self, optimizer):
            kh, kw = self.filter_shape
            self.W = 0.1 * np.random.randn(self.n_filters, self.input_shape[0], kh, kw)
            self.W_opt = copy.copy(optimizer)

        def forward_pass(self, X, training=True):
            self.X = X
            kh, kw = self.filter_shape
            _, h, w = self.input_shape
            out = np.zeros((len(X), self.n_filters, h - kh + 1, w - kw + 1))
            for i in range(kh):
                for j in range(kw):
                    out += np.einsum("nchw,fc->nfhw", X[:, :, i:i + h - kh + 1, j:j + w - kw + 1], self.W[:, :, i, j])
            return out

        def backward_pass(self, grad):
            W = self.W
            kh, kw = self.filter_shape
            _, h, w = self.input_shape
            grad_W, dX = np.zeros_like(W), np.zeros_like(self.X)
            for i in range(kh):
                for j in range(kw):
                    grad_W[:, :, i, j] = np.einsum("nchw,nfhw->fc", self.X[:, :, i:i + h - kh + 1, j:j + w - kw + 1], grad)
                    dX[:, :, i:i + h - kh + 1, j:j + w - kw + 1] += np.einsum("nfhw,fc->nchw", grad, W[:, :, i, j])
            self.W = self.W_opt.update(self.W, grad_W)
            return dX
"""


def test_a_layer_stepping_with_its_optimizer_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"]} == {
        ("Dense", "x", "ok"), ("Dense", "W", "ok"), ("Dense", "b", "ok"), ("Conv2D", "x", "ok"), ("Conv2D", "W", "ok"),
    }  # fmt: skip
    how = {b["what"]: b["how"] for b in report["built"]}
    assert how["Dense"] == "Dense(n_units=4, input_shape=None) then set_input_shape((12,)) then initialize(UnitStep())"
    # a convolution is given one image's (channels, height, width) first
    assert how["Conv2D"].endswith("then set_input_shape((3, 6, 6)) then initialize(UnitStep())")


def test_a_weight_step_with_the_gradient_halved_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "grad_W = self.X.T @ grad", "grad_W = 0.5 * self.X.T @ grad")
    report = check(path)
    (wrong,) = [f for f in errors(report) if f["name"] == "gradient-mismatch"]
    assert (wrong["layer"], wrong["param"]) == ("Dense", "W")
    assert wrong["line"] == line_of(path, "grad_W = 0.5 * self.X.T @ grad")
