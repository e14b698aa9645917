"""A network class trained with a cross-entropy whose backward multiplies the output error by the
sigmoid's slope again (`dz2 = (self.a2 - y) * self.a2 * (1 - self.a2) / m`, the habit of a squared
error). Near the initial weights that slope is close to 0.25 everywhere, and the gradients look like
the loss's times one factor; a factor the program holds no reason for is not taken for its scale, and
the extra slope is named where it is multiplied in."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class NeuralNetwork:
    def __init__(self, n_in, n_hidden):
        rng = np.random.RandomState(7)
        self.W1 = rng.randn(n_in, n_hidden) * 0.5
        self.b1 = np.zeros((1, n_hidden))
        self.W2 = rng.randn(n_hidden, 1) * 0.5
        self.b2 = np.zeros((1, 1))

    def feedforward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.a1 = sigmoid(self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = sigmoid(self.z2)
        return self.a2

    def loss(self, y):
        a = np.clip(self.a2, 1e-9, 1 - 1e-9)
        return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))

    def backprop(self, X, y, lr):
        m = X.shape[0]
        dz2 = (self.a2 - y) / m
        dW2 = self.a1.T @ dz2
        db2 = dz2.sum(axis=0, keepdims=True)
        dz1 = dz2 @ self.W2.T * self.a1 * (1 - self.a1)
        dW1 = X.T @ dz1
        db1 = dz1.sum(axis=0, keepdims=True)
        self.W1 -= lr * dW1
        self.b1 -= lr * db1
        self.W2 -= lr * dW2
        self.b2 -= lr * db2


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(200, 2)
    y = ((X[:, 0] ** 2 + X[:, 1] ** 2) < 1.2).astype(float).reshape(-1, 1)
    nn = NeuralNetwork(2, 8)
    for epoch in range(2000):
        nn.feedforward(X)
        if epoch % 400 == 0:
            print(epoch, nn.loss(y))
        nn.backprop(X, y, lr=2.0)
'''

RIGHT = "dz2 = (self.a2 - y) / m"
EXTRA = "dz2 = (self.a2 - y) * self.a2 * (1 - self.a2) / m"


def test_the_cross_entropy_network_gets_no_finding(tmp_path):
    assert check(planted(tmp_path, "net.py", PROGRAM, RIGHT, RIGHT))["findings"] == []


def test_the_sigmoid_slope_multiplied_in_again_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, RIGHT, EXTRA)
    (found,) = errors(check(path))
    assert (found["param"], found["line"], found["pattern"]) == ("dz2", line_of(path, EXTRA), "extra-activation-derivative")
    assert found["message"].startswith(f"`dz2` (line {line_of(path, EXTRA)}) multiplies by `self.a2 * (1 - self.a2)`, the sigmoid's derivative")
    assert found["message"].endswith("remove the factor `self.a2 * (1 - self.a2)`")
