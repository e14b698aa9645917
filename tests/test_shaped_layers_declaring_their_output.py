"""Layers of one sample that declare their output's shape and check it against their input's
(`Conv2D(shape_in, shape_out, kernel_size)` asserting `shape_out[0] == shape_in[0] - k + 1`):
the shaped-layers convention tries the outputs such a layer may declare (a 3 × 3 window's valid
output, channels last or first; the input's own shape; a transposed window's) after its flat
(size, 1) guess, so the layer is built and checked instead of "Conv2D(...) raised IndexError".

Two styles: a channels-last convolution on (h, w, c) that asserts its output; a channels-first
per-channel gain (`Gain(input_shape, output_shape)`) that requires the output to equal the input."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

CONV = """\
import numpy as np


class Conv2D:
    def __init__(self, shape_in, shape_out, kernel_size):
        assert shape_out[0] == shape_in[0] - kernel_size + 1, "shape_out does not fit"
        assert shape_out[1] == shape_in[1] - kernel_size + 1, "shape_out does not fit"
        self.shape_in, self.shape_out, self.k = shape_in, shape_out, kernel_size
        self.w = np.random.normal(0.0, 0.3, (kernel_size, kernel_size, shape_in[2], shape_out[2]))
        self.b = np.zeros(shape_out[2])

    def forward(self, x):
        self.x = x
        y = np.zeros(self.shape_out)
        for i in range(self.shape_out[0]):
            for j in range(self.shape_out[1]):
                patch = x[i:i + self.k, j:j + self.k, :]
                y[i, j, :] = np.tensordot(patch, self.w, axes=3) + self.b
        return y

    def backward(self, grad_y):
        self.dw = np.zeros_like(self.w)
        self.db = grad_y.sum(axis=(0, 1))
        dx = np.zeros_like(self.x)
        for i in range(self.shape_out[0]):
            for j in range(self.shape_out[1]):
                patch = self.x[i:i + self.k, j:j + self.k, :]
                self.dw += patch[:, :, :, None] * grad_y[i, j][None, None, None, :]
                dx[i:i + self.k, j:j + self.k, :] += np.tensordot(self.w, grad_y[i, j], axes=([3], [0]))
        return dx
"""

GAIN = """\
import numpy as np


class Gain:
    def __init__(self, input_shape, output_shape):
        if tuple(output_shape) != tuple(input_shape):
            raise ValueError("a gain keeps its input's shape")
        self.input_shape = input_shape
        self.g = 1.0 + 0.1 * np.random.randn(input_shape[0], 1, 1)

    def forward(self, x):
        self.x = x
        return x * self.g

    def backward(self, dy):
        self.dg = np.sum(dy * self.x, axis=(1, 2), keepdims=True)
        return dy * self.g
"""


def _measured(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"]}


def test_a_convolution_asserting_its_output_shape_is_built_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "conv.py", CONV))
    assert not errors(report), errors(report)
    assert {("Conv2D", "w"), ("Conv2D", "b"), ("Conv2D", "x")} <= _measured(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD008"], report["findings"]


def test_a_wrong_kernel_gradient_of_such_a_convolution_is_found_at_its_line(tmp_path: Path) -> None:
    wrong = "self.dw += patch[:, :, :, None] * grad_y[i, j][None, None, None, :] * 2"
    path = planted(tmp_path, "conv.py", CONV, "self.dw += patch[:, :, :, None] * grad_y[i, j][None, None, None, :]", wrong)
    found = [f for f in errors(check(path)) if f["layer"] == "Conv2D" and f["param"] == "w"]
    assert found and found[0]["line"] == line_of(path, wrong), found


def test_a_layer_requiring_its_output_to_be_its_input_shape_is_built_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "gain.py", GAIN))
    assert not errors(report), errors(report)
    assert {("Gain", "g"), ("Gain", "x")} <= _measured(report)


def test_a_wrong_gain_gradient_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "gain.py", GAIN, "self.dg = np.sum(dy * self.x, axis=(1, 2), keepdims=True)", "self.dg = np.sum(dy, axis=(1, 2), keepdims=True)")
    found = [f for f in errors(check(path)) if f["layer"] == "Gain" and f["param"] == "g"]
    assert found and found[0]["line"] == line_of(path, "self.dg = np.sum(dy, axis"), found
