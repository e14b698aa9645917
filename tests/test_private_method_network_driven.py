"""A network class with private methods (`__forward_propagation`, `__backward_propagation`) and a
`fit(X, Y, num_iterations, learning_rate)` the file never calls, samples in columns, computing no
loss in its loop: the driver builds it with one hidden width for `hidden_layer_size` (not a list of
layers), the output error `cache["A2"] - Y` implies the loss, and of the usual losses the binary
cross-entropy (a sum, whose gradient the program averages) is the one its updates follow."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

NETWORK = """\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class SimpleNeuralNetwork:
    def __init__(self, input_size, hidden_layer_size):
        self.params = {
            "W1": np.random.randn(hidden_layer_size, input_size) * 0.01, "b1": np.zeros((hidden_layer_size, 1)),
            "W2": np.random.randn(1, hidden_layer_size) * 0.01, "b2": np.zeros((1, 1)),
        }

    def __forward_propagation(self, X):
        Z1 = self.params["W1"] @ X + self.params["b1"]
        A1 = np.tanh(Z1)
        A2 = sigmoid(self.params["W2"] @ A1 + self.params["b2"])
        return A2, {"A1": A1, "A2": A2}

    def __compute_cost(self, A2, Y):
        m = Y.shape[1]
        return -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m

    def __backward_propagation(self, X, Y, cache):
        m = X.shape[1]
        dZ2 = cache["A2"] - Y
        dZ1 = self.params["W2"].T @ dZ2 * (1 - cache["A1"] ** 2)
        return {"dW2": dZ2 @ cache["A1"].T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m,
                "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m}

    def fit(self, X, Y, num_iterations, learning_rate):
        for _ in range(num_iterations):
            A2, cache = self.__forward_propagation(X)
            grads = self.__backward_propagation(X, Y, cache)
            for key in self.params:
                self.params[key] -= learning_rate * grads["d" + key]
        return self
"""


def test_the_private_method_network_is_driven_and_clean(tmp_path):
    report = check(write(tmp_path, "simple.py", NETWORK))
    assert errors(report) == []
    step = replayed(report)
    assert "hidden_layer_size=8" in step["driver"]
    assert step["loss"].startswith("−Σ Y·log cache['A2'] + (1 − Y)·log(1 − cache['A2'])")
    assert len(step["parameters"]) == 4 and not any(p["wrong"] for p in step["parameters"])


def test_a_gradient_left_undivided_is_found(tmp_path):
    path = planted(tmp_path, "simple.py", NETWORK, '"db2": dZ2.sum(axis=1, keepdims=True) / m', '"db2": dZ2.sum(axis=1, keepdims=True)')
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and any("b2" in f["param"] for f in found)
