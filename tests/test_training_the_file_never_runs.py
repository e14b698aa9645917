"""A file that defines its training and never runs it: a class with `fit(X, Y, num_iterations,
learning_rate)` or a `train(X, y, epochs, lr)` function, and no code that calls them.

backprop-doctor writes the call a user would write (build the object, make a small batch in one
layout after another until one runs), runs the loop a few passes and replays its step: a
wrong gradient is named at its line, a correct file gets no error, and the report says what it
ran. Private methods (`self.__forward`) are replayed under their mangled names.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

LIBRARY = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class TwoLayerClassifier:
    """Samples in columns: X (features, m), Y (1, m)."""

    def __init__(self, layer_dims):
        rng = np.random.default_rng(3)
        self.params = {}
        for l in range(1, len(layer_dims)):
            self.params["W" + str(l)] = rng.normal(size=(layer_dims[l], layer_dims[l - 1])) * 0.3
            self.params["b" + str(l)] = np.zeros((layer_dims[l], 1))

    def __forward(self, X):
        Z1 = self.params["W1"] @ X + self.params["b1"]
        A1 = np.tanh(Z1)
        A2 = sigmoid(self.params["W2"] @ A1 + self.params["b2"])
        return A1, A2

    def __cost(self, A2, Y):
        return -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))

    def __backward(self, X, Y, A1, A2):
        m = X.shape[1]
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m
        db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = self.params["W2"].T @ dZ2 * (1 - A1 ** 2)
        dW1 = dZ1 @ X.T / m
        db1 = dZ1.sum(axis=1, keepdims=True) / m
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    def fit(self, X, Y, num_iterations, learning_rate, print_cost=False):
        for i in range(num_iterations):
            A1, A2 = self.__forward(X)
            cost = self.__cost(A2, Y)
            grads = self.__backward(X, Y, A1, A2)
            for key in ("W1", "b1", "W2", "b2"):
                self.params[key] -= learning_rate * grads["d" + key]
            if print_cost and i % 100 == 0:
                print(i, cost)
        return self
'''

FUNCTION = '''\
import numpy as np


def train(X, y, epochs, lr):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(X.shape[1], 3)) * 0.1
    for epoch in range(epochs):
        s = X @ W
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(y)), y]))
        d = p.copy()
        d[np.arange(len(y)), y] -= 1
        W -= lr * X.T @ d / len(y)
    return W
'''


def test_a_class_that_is_never_fitted_is_fitted_on_a_synthetic_batch_and_replayed(tmp_path):
    report = check(write(tmp_path, "classifier.py", LIBRARY))
    assert errors(report) == []
    result = replayed(report)
    assert result["driver"].startswith("TwoLayerClassifier(layer_dims=[12, 8, 1]).fit(X=X (12, 32), Y=0/1 Y (1, 32)")
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [
        (f"self.params['{k}']", False) for k in ("W1", "b1", "W2", "b2")
    ]
    (built,) = [b for b in report["built"] if "training step" in str(b)]
    assert "your file never runs it" in str(built)


def test_a_wrong_derivative_in_a_private_method_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "classifier.py", LIBRARY, "* (1 - A1 ** 2)", "* (1 - A1)")
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, "dZ1 = self.params")


def test_a_training_function_never_called_is_called_with_integer_labels(tmp_path):
    report = check(write(tmp_path, "softmax_regression.py", FUNCTION))
    assert errors(report) == []
    result = replayed(report)
    assert result["driver"].startswith("train(X=X (32, 12), y=integer labels (32,), epochs=3, lr=0.05)")
    path = planted(tmp_path, "softmax_regression.py", FUNCTION, "d[np.arange(len(y)), y] -= 1", "d[np.arange(len(y)), y] -= 2")
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108" and finding["line"] in (line_of(path, "-= 2"), line_of(path, "W -= lr"))
