"""`self.W2 -= self.lr * self.h.T @ d_out`: the hidden layer's output kept as `self.h` is a factor of
the gradient, not Adagrad's `h`. The update is compared like any other, and a flipped sign on it is
found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

NET = '''\
import numpy as np


class NeuralNetwork:
    def __init__(self, n_in, n_hidden, n_out, lr=0.1):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.1
        self.W2 = np.random.randn(n_hidden, n_out) * 0.1
        self.lr = lr

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def feedforward(self, X):
        self.h = self.sigmoid(X @ self.W1)
        self.out = self.sigmoid(self.h @ self.W2)
        return self.out

    def train(self, X, y, epochs=100):
        for _ in range(epochs):
            out = self.feedforward(X)
            loss = np.mean((out - y) ** 2)
            d_out = 2 * (out - y) * out * (1 - out) / len(X)
            d_h = d_out @ self.W2.T * self.h * (1 - self.h)
            self.W2 -= self.lr * self.h.T @ d_out
            self.W1 -= self.lr * X.T @ d_h
'''


def test_both_updates_are_compared_and_right(tmp_path):
    report = check(write(tmp_path, "nn.py", NET))
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"self.W1", "self.W2"}


def test_a_flipped_update_of_the_hidden_to_output_weights_is_found(tmp_path):
    path = planted(tmp_path, "nn.py", NET, "self.W2 -= self.lr", "self.W2 += self.lr")
    (finding,) = errors(check(path))
    assert (finding["param"], finding["line"]) == ("self.W2", line_of(path, "self.W2 += self.lr"))
    assert "subtract the step instead of adding it" in finding["message"]
