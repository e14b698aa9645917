"""Layers written for one sample at a time, as a row: `self.bias -= learning_rate * output_error`
with a (1, n) bias only runs on one row, and a network that feeds one sample per step never
gives it more. Such a layer is checked on one row (and says so), not reported as raising.

The style: `forward_propagation(input_data)` / `backward_propagation(output_error, learning_rate)`,
the update made inside backward, the input gradient returned.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

ROW_LAYER = """
import numpy as np


class Layer:
    def __init__(self):
        self.input = None
        self.output = None

    def forward_propagation(self, input):
        raise NotImplementedError

    def backward_propagation(self, output_error, learning_rate):
        raise NotImplementedError


class FCLayer(Layer):
    def __init__(self, input_size, output_size):
        self.weights = np.random.rand(input_size, output_size) - 0.5
        self.bias = np.random.rand(1, output_size) - 0.5

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = np.dot(self.input, self.weights) + self.bias
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error)
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * output_error
        return input_error
"""


def test_a_row_layer_that_updates_itself_in_backward_is_checked_on_one_sample(tmp_path: Path) -> None:
    path = planted(tmp_path, "fc_layer.py", ROW_LAYER, "return input_error", "return input_error")
    report = check(path)
    assert errors(report) == []
    checked = {m["param"] for m in report["measurements"] if m["layer"] == "FCLayer"}
    assert checked == {"x", "weights", "bias"}
    (built,) = [b for b in report["built"] if b["what"] == "FCLayer"]
    assert built["shapes"].startswith("one sample x (1, ")


def test_a_weights_gradient_of_the_wrong_orientation_is_still_caught_on_one_sample(tmp_path: Path) -> None:
    path = planted(
        tmp_path, "fc_layer.py", ROW_LAYER,
        "weights_error = np.dot(self.input.T, output_error)",
        "weights_error = np.dot(self.input.T, output_error) * 0.5",
    )  # fmt: skip
    report = check(path)
    (error,) = errors(report)
    assert error["code"] == "BPD101" and error["param"] == "weights"
    assert error["line"] in {line_of(path, "weights_error = np.dot"), line_of(path, "self.weights -= ")}
