"""A layer that updates itself in `backward(output_gradient, learning_rate)` and keeps its gradients
as attributes (`self.weights_gradient = ...; self.weights -= learning_rate * self.weights_gradient`).

Built from the program's own run, the layer already holds those gradient attributes, and each call
of `backward` rebinds them. They are what the step moves the parameters by, not parameters: the
check compares `weights` and `bias` only, and a correct layer gets no finding."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PROGRAM = """
import numpy as np

np.random.seed(1)


class Dense:
    def __init__(self, input_size, output_size):
        self.weights = np.random.randn(input_size, output_size) * 0.5
        self.bias = np.zeros((1, output_size))

    def forward(self, input):
        self.input = input
        return np.dot(input, self.weights) + self.bias

    def backward(self, output_gradient, learning_rate):
        self.weights_gradient = np.dot(self.input.T, output_gradient)
        self.bias_gradient = np.sum(output_gradient, axis=0, keepdims=True)
        input_gradient = np.dot(output_gradient, self.weights.T)
        self.weights -= learning_rate * self.weights_gradient
        self.bias -= learning_rate * self.bias_gradient
        return input_gradient


class Tanh:
    def forward(self, input):
        self.output = np.tanh(input)
        return self.output

    def backward(self, output_gradient, learning_rate):
        return output_gradient * (1 - self.output ** 2)


X = np.random.randn(50, 3)
Y = np.sin(X[:, :1]) - X[:, 1:2]
network = [Dense(3, 8), Tanh(), Dense(8, 1)]
for epoch in range(200):
    output = X
    for layer in network:
        output = layer.forward(output)
    grad = 2 * (output - Y) / len(X)
    for layer in reversed(network):
        grad = layer.backward(grad, 0.05)
"""

INPUT_GRADIENT = "input_gradient = np.dot(output_gradient, self.weights.T)"


def rows(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"]}


def test_a_correct_self_updating_layer_with_kept_gradients_is_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "dense.py", PROGRAM, INPUT_GRADIENT, INPUT_GRADIENT))
    assert errors(report) == []
    assert {param for layer, param in rows(report) if layer == "Dense"} == {"x", "weights", "bias"}


def test_a_wrong_input_gradient_of_that_layer_is_still_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "dense.py", PROGRAM, INPUT_GRADIENT, "input_gradient = np.dot(output_gradient, self.weights.T) * 2")
    report = check(path)
    assert line_of(path, "input_gradient = np.dot(output_gradient, self.weights.T) * 2") in {f["line"] for f in errors(report)}
    assert not {f["param"] for f in errors(report)} & {"Dense.weights_gradient", "Dense.bias_gradient", "weights_gradient", "bias_gradient"}
