"""Convolution layers that call `scipy.signal` are checked where SciPy is not installed.

A popular tutorial's convolution layer computes its forward pass with
`signal.correlate2d(x, k, "valid")` and its input gradient with `signal.convolve2d(g, k, "full")`.
backprop-doctor does not depend on SciPy; where it is missing, NumPy stand-ins with SciPy's
results take its place, so these layers are checked instead of "nothing to check". The layer is
built on one image `(depth, height, width)`, or `(height, width, depth)` when its constructor
reads the depth from the last axis, with an output depth that differs from the input depth.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_doctor.loading.signal import convolve2d, correlate2d
from tests.userfiles import check, errors, line_of, planted, write

# SciPy 1.17's own results for a = arange(12).reshape(3, 4), k = [[1, 2], [0, -1]].
SCIPY = {
    ("correlate2d", "valid"): [[-3, -1, 1], [5, 7, 9]],
    ("correlate2d", "full"): [[0, -1, -2, -3, 0], [-4, -3, -1, 1, 3], [0, 5, 7, 9, 7], [16, 26, 29, 32, 11]],
    ("correlate2d", "same"): [[-3, -1, 1, 3], [5, 7, 9, 7], [26, 29, 32, 11]],
    ("convolve2d", "valid"): [[13, 15, 17], [21, 23, 25]],
    ("convolve2d", "full"): [[0, 1, 4, 7, 6], [4, 13, 15, 17, 11], [8, 21, 23, 25, 15], [0, -8, -9, -10, -11]],
    ("convolve2d", "same"): [[0, 1, 4, 7], [4, 13, 15, 17], [8, 21, 23, 25]],
}


@pytest.mark.parametrize(("name", "mode"), sorted(SCIPY))
def test_the_stand_ins_give_scipys_results(name, mode):
    a = np.arange(12.0).reshape(3, 4)
    k = np.array([[1.0, 2.0], [0.0, -1.0]])
    function = {"correlate2d": correlate2d, "convolve2d": convolve2d}[name]
    np.testing.assert_array_equal(function(a, k, mode), np.array(SCIPY[name, mode], dtype=float))


def test_valid_mode_takes_the_larger_array_as_the_image_as_scipy_does():
    a = np.arange(12.0).reshape(3, 4)
    k = np.array([[1.0, 2.0], [0.0, -1.0]])
    np.testing.assert_array_equal(convolve2d(k, a, "valid"), convolve2d(a, k, "valid"))
    np.testing.assert_array_equal(correlate2d(k, a, "valid"), correlate2d(a, k, "valid")[::-1, ::-1])


def test_an_unknown_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="mode must be"):
        correlate2d(np.ones((3, 3)), np.ones((2, 2)), "wrap")


CHANNELS_FIRST = '''\
import numpy as np
from scipy import signal


class Convolution:
    def __init__(self, input_shape, kernel_size, depth):
        in_depth, height, width = input_shape
        self.depth = depth
        self.in_depth = in_depth
        self.out_shape = (depth, height - kernel_size + 1, width - kernel_size + 1)
        self.kernels = np.random.randn(depth, in_depth, kernel_size, kernel_size)
        self.biases = np.random.randn(*self.out_shape)

    def forward(self, x):
        self.x = x
        y = np.copy(self.biases)
        for i in range(self.depth):
            for j in range(self.in_depth):
                y[i] += signal.correlate2d(x[j], self.kernels[i, j], "valid")
        return y

    def backward(self, grad, learning_rate):
        dk = np.zeros(self.kernels.shape)
        dx = np.zeros(self.x.shape)
        for i in range(self.depth):
            for j in range(self.in_depth):
                dk[i, j] = signal.correlate2d(self.x[j], grad[i], "valid")
                dx[j] += signal.convolve2d(grad[i], self.kernels[i, j], "full")
        self.kernels -= learning_rate * dk
        self.biases -= learning_rate * grad
        return dx
'''

CHANNELS_LAST = '''\
import numpy as np
from scipy import signal


class ConvLayer:
    def __init__(self, input_shape, kernel_shape, layer_depth):
        self.input_shape = input_shape
        self.input_depth = input_shape[2]
        self.layer_depth = layer_depth
        self.kernel_shape = kernel_shape
        self.output_shape = (input_shape[0] - kernel_shape[0] + 1, input_shape[1] - kernel_shape[1] + 1, layer_depth)
        self.weights = np.random.rand(kernel_shape[0], kernel_shape[1], self.input_depth, layer_depth) - 0.5
        self.bias = np.random.rand(layer_depth) - 0.5

    def forward_propagation(self, input):
        self.input = input
        out = np.zeros(self.output_shape)
        for k in range(self.layer_depth):
            for d in range(self.input_depth):
                out[:, :, k] += signal.correlate2d(input[:, :, d], self.weights[:, :, d, k], "valid")
            out[:, :, k] += self.bias[k]
        return out

    def backward_propagation(self, output_error, learning_rate):
        in_error = np.zeros(self.input_shape)
        d_weights = np.zeros(self.weights.shape)
        d_bias = np.zeros(self.layer_depth)
        for k in range(self.layer_depth):
            for d in range(self.input_depth):
                in_error[:, :, d] += signal.convolve2d(output_error[:, :, k], self.weights[:, :, d, k], "full")
                d_weights[:, :, d, k] = signal.correlate2d(self.input[:, :, d], output_error[:, :, k], "valid")
            d_bias[k] = np.sum(output_error[:, :, k])
        self.weights -= learning_rate * d_weights
        self.bias -= learning_rate * d_bias
        return in_error
'''


@pytest.mark.parametrize(("text", "layer", "params"), [
    (CHANNELS_FIRST, "Convolution", {"x", "kernels", "biases"}),
    (CHANNELS_LAST, "ConvLayer", {"x", "weights", "bias"}),
])
def test_a_correct_convolution_layer_on_scipy_signal_is_checked_and_clean(tmp_path, text, layer, params):
    report = check(write(tmp_path, "conv.py", text))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == layer} == params
    notes = [f["message"] for f in report["findings"] if f["code"] == "BPD003"]
    assert notes == [] or "`signal.correlate2d`, `signal.convolve2d`" in notes[0]  # [] where SciPy is installed


def test_a_kernel_gradient_that_is_not_flipped_back_is_found_at_its_line(tmp_path):
    path = planted(
        tmp_path, "conv.py", CHANNELS_FIRST,
        'dx[j] += signal.convolve2d(grad[i], self.kernels[i, j], "full")',
        'dx[j] += signal.correlate2d(grad[i], self.kernels[i, j], "full")',
    )
    found = {(f["code"], f["param"], f["line"]) for f in errors(check(path))}
    assert ("BPD101", "x", line_of(path, "dx[j] += signal.correlate2d")) in found


def test_a_bias_gradient_scaled_by_the_output_depth_is_found_at_its_line(tmp_path):
    # the input depth and the output depth differ, so the factor cannot cancel
    path = planted(
        tmp_path, "conv.py", CHANNELS_LAST,
        "d_bias[k] = np.sum(output_error[:, :, k])", "d_bias[k] = self.layer_depth * np.sum(output_error[:, :, k])",
    )
    found = {(f["code"], f["param"], f["line"]) for f in errors(check(path))}
    assert found == {("BPD101", "bias", line_of(path, "d_bias[k] = self.layer_depth"))}
