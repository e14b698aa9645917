"""A constructor that makes an array of shape None (`np.zeros(None)`, a base class handed
`shape_w=None` by its activations): NumPy 2 refuses it ("Use () not None as shape arguments"),
whatever arguments the layer is given, so building the layer raised in the user's code: a
`layer-raised` error at that line, not "could not be built, pass --build". The correct twin (an
empty shape `()`) is built and checked clean.

Two styles: a base class that every layer hands its weight shape (an activation hands None); a
stand-alone layer that sizes a buffer from an optional argument left at None."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

BASE_STYLE = """\
import numpy as np


class Layer:
    def __init__(self, n_in, n_out, shape_w):
        self.n_in = n_in
        self.n_out = n_out
        self.w = np.zeros(shape_w)
        self.grad_w = np.zeros(shape_w)


class Sigmoid(Layer):
    def __init__(self, n_in):
        super().__init__(n_in, n_in, ())

    def forward(self, x):
        self.y = 1.0 / (1.0 + np.exp(-x))
        return self.y

    def backward(self, dout):
        return dout * self.y * (1.0 - self.y)
"""

BUFFER_STYLE = """\
import numpy as np


class Scale:
    def __init__(self, input_size, buffer_shape=()):
        self.gain = np.ones(input_size) * 1.5
        self.buffer = np.zeros(buffer_shape)

    def forward(self, x):
        self.x = x
        return x * self.gain

    def backward(self, dout):
        self.dgain = np.sum(dout * self.x, axis=0)
        return dout * self.gain
"""


def test_a_base_class_given_an_empty_weight_shape_builds_and_is_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "layers.py", BASE_STYLE))
    assert not errors(report), errors(report)
    assert any(m["layer"] == "Sigmoid" for m in report["measurements"])


def test_a_base_class_handed_none_as_a_shape_is_a_layer_raised_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "layers.py", BASE_STYLE, "super().__init__(n_in, n_in, ())", "super().__init__(n_in, n_in, None)")
    report = check(path)
    raised = [f for f in errors(report) if f["code"] == "BPD105" and f["layer"] == "Sigmoid"]
    assert raised and raised[0]["line"] == line_of(path, "self.w = np.zeros(shape_w)"), report["findings"]
    assert "not None" in raised[0]["message"]
    assert not [f for f in report["findings"] if f["code"] == "BPD008" and f["layer"] == "Sigmoid"], report["findings"]


def test_a_buffer_of_an_empty_shape_builds_and_is_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "scale.py", BUFFER_STYLE))
    assert not errors(report), errors(report)
    assert any(m["layer"] == "Scale" and m["param"] == "gain" for m in report["measurements"])


def test_a_buffer_sized_from_an_argument_left_at_none_is_a_layer_raised_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "scale.py", BUFFER_STYLE, "buffer_shape=()", "buffer_shape=None")
    report = check(path)
    raised = [f for f in errors(report) if f["code"] == "BPD105" and f["layer"] == "Scale"]
    assert raised and raised[0]["line"] == line_of(path, "self.buffer = np.zeros(buffer_shape)"), report["findings"]
