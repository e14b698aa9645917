"""Layers whose constructor takes one sample's shape under another spelling than `input_shape`:
`Dense(shape_in, shape_out)`, `Tanh(shape_in)`, `Linear(in_shape, out_shape)`. They are built for
one sample of a shape (as `conventions/shaped_layers` builds `input_shape` layers), so they are
checked instead of "cannot guess a value for the constructor argument `shape_in`"; a layer with a
single shape argument (an activation) is built too. A loss layer with such a constructor
(`RMSLoss(shape_in)`, `forward(x, t)`) is left to the loss conventions.

Two styles: a base class that keeps the shapes, with a dense layer and an activation written for
one (h, w, c) sample that flatten it; a stand-alone linear layer on `in_shape` / `out_shape`
that keeps its weight (out, in)."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

BASE_STYLE = """\
import numpy as np


class Layer:
    def __init__(self, shape_in, shape_out):
        self.shape_in = shape_in
        self.shape_out = shape_out


class Dense(Layer):
    def __init__(self, shape_in, shape_out):
        super().__init__(shape_in, shape_out)
        self.w = np.random.normal(0.0, 0.3, (int(np.prod(shape_out)), int(np.prod(shape_in))))
        self.wb = np.zeros(shape_out)

    def forward(self, x):
        self.x = x.ravel()
        return (self.w @ self.x).reshape(self.shape_out) + self.wb

    def backward(self, grad_y):
        self.grad_wb = grad_y.copy()
        g = grad_y.ravel()
        self.grad_w = np.outer(g, self.x)
        return (g @ self.w).reshape(self.shape_in)


class Tanh(Layer):
    def __init__(self, shape_in):
        super().__init__(shape_in, shape_in)

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_y):
        return grad_y * (1.0 - self.y ** 2)
"""

LINEAR_STYLE = """\
import numpy as np


class Linear:
    def __init__(self, in_shape, out_shape):
        self.in_shape = in_shape
        self.out_shape = out_shape
        n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
        self.W = np.random.randn(n_out, n_in) * 0.2
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.flat = x.reshape(-1)
        return (self.W @ self.flat + self.b).reshape(self.out_shape)

    def backward(self, dout):
        d = dout.reshape(-1)
        self.dW = np.outer(d, self.flat)
        self.db = d
        return (self.W.T @ d).reshape(self.in_shape)
"""

LOSS = """\
import numpy as np


class RMSLoss:
    def __init__(self, shape_in):
        self.shape_in = shape_in
        self.loss = np.zeros(shape_in)

    def forward(self, x, t):
        self.x, self.t = x, t
        self.loss += 0.5 * np.square(x - t)
        return x

    def backward(self):
        return self.x - self.t
"""


def _measured(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"]}


def test_base_class_layers_on_shape_in_are_built_for_one_sample_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "layers.py", BASE_STYLE))
    assert not errors(report), errors(report)
    assert {("Dense", "x"), ("Dense", "w"), ("Dense", "wb"), ("Tanh", "x")} <= _measured(report)
    built = {b["what"]: b["shapes"] for b in report["built"]}
    assert "shape_in=" in built["Dense"] and "shape_in=" in built["Tanh"]
    assert not [f for f in report["findings"] if f["code"] == "BPD008"], report["findings"]


def test_a_wrong_weight_gradient_of_a_shape_in_layer_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "layers.py", BASE_STYLE, "self.grad_w = np.outer(g, self.x)", "self.grad_w = 2 * np.outer(g, self.x)")
    found = [f for f in errors(check(path)) if f["layer"] == "Dense" and f["param"] == "w"]
    assert found and found[0]["line"] == line_of(path, "self.grad_w = 2 * np.outer"), errors(check(path))


def test_a_wrong_activation_derivative_of_a_single_shape_argument_layer_is_found(tmp_path: Path) -> None:
    path = planted(tmp_path, "layers.py", BASE_STYLE, "return grad_y * (1.0 - self.y ** 2)", "return grad_y * (1.0 - self.y)")
    found = [f for f in errors(check(path)) if f["layer"] == "Tanh"]
    assert found and found[0]["line"] == line_of(path, "return grad_y * (1.0 - self.y)"), errors(check(path))


def test_a_linear_layer_on_in_shape_and_out_shape_is_built_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "linear.py", LINEAR_STYLE))
    assert not errors(report), errors(report)
    assert {("Linear", "x"), ("Linear", "W"), ("Linear", "b")} <= _measured(report)


def test_a_wrong_input_gradient_of_an_in_shape_layer_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "linear.py", LINEAR_STYLE, "return (self.W.T @ d).reshape(self.in_shape)", "return (self.W.T @ np.abs(d)).reshape(self.in_shape)")
    found = [f for f in errors(check(path)) if f["layer"] == "Linear" and f["param"] in (None, "x")]
    assert found and found[0]["line"] == line_of(path, "np.abs(d)"), errors(check(path))


def test_a_loss_layer_with_a_shape_in_constructor_is_not_built_as_a_one_input_layer(tmp_path: Path) -> None:
    report = check(write(tmp_path, "loss.py", LOSS))
    assert not errors(report), errors(report)
    assert not report["measurements"]
