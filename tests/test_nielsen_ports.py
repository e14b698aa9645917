"""Ports of Nielsen's `network.py`: `forward(x)` for `feedforward(a)`, `backprop` returning the
weights' gradients first, weights set by an initializer method the constructor calls.

Each port is a user's file in a temporary folder, checked by the real CLI; the correct port gets
no error, the buggy twin is reported at its own line.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PORT = """
import numpy as np


class Network:
    def __init__(self, shape):
        self.num_layers = len(shape)
        self.shape = shape
        self.init_weights()

    def init_weights(self):
        self.biases = [np.random.randn(n, 1) for n in self.shape[1:]]
        self.weights = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(self.shape[:-1], self.shape[1:])]

    def forward(self, x):
        for w, b in zip(self.weights, self.biases):
            x = sigmoid(w @ x + b)
        return x

    def backprop(self, x, y):
        dw = [np.zeros(w.shape) for w in self.weights]
        db = [np.zeros(b.shape) for b in self.biases]
        a, activations, zs = x, [x], []
        for w, b in zip(self.weights, self.biases):
            z = w @ a + b
            zs.append(z)
            a = sigmoid(z)
            activations.append(a)
        err = self.derivative_C(activations[-1], y) * sigmoid_prime(zs[-1])
        dw[-1] = err @ activations[-2].T
        db[-1] = err
        for layer in range(2, self.num_layers):
            err = self.weights[-layer + 1].T @ err * sigmoid_prime(zs[-layer])
            dw[-layer] = err @ activations[-layer - 1].T
            db[-layer] = err
        return (dw, db)

    def derivative_C(self, output, y):
        return output - y


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))
"""


def test_a_port_with_forward_weights_first_and_an_initializer_method_is_checked_clean(tmp_path: Path) -> None:
    path = planted(tmp_path, "network.py", PORT, "return (dw, db)", "return (dw, db)")
    report = check(path)
    assert errors(report) == []
    checked = {(m["layer"], m["param"]) for m in report["measurements"]}
    assert {("Network", "weights[0]"), ("Network", "biases[1]")} <= checked


def test_the_same_port_without_the_hidden_sigmoid_slope_is_reported_at_that_line(tmp_path: Path) -> None:
    path = planted(
        tmp_path, "network.py", PORT,
        "err = self.weights[-layer + 1].T @ err * sigmoid_prime(zs[-layer])",
        "err = self.weights[-layer + 1].T @ err",
    )  # fmt: skip
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD101"
    assert root["line"] in {line_of(path, "err = self.weights[-layer + 1].T @ err"), line_of(path, "return (dw, db)")}
    assert "weights[0]" in root["message"] or "biases[0]" in root["message"]
