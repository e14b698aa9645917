"""Gradient ascent on a log-likelihood (`W2 += lr * dW2`, the derivatives of the likelihood summed
over the samples, the loss a mean of its negative) where one update is written the other way round
(`W1 -= lr * dW1`): every update follows one factor of the loss's gradient but that one, which has
it negated. The rest set the program's scale, and the one written against them is named at its
update, with the sign to write; the same program with its signs alike gets no error.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def forward(X, W1, b1, W2, b2):
    Z = np.tanh(X.dot(W1) + b1)
    A = Z.dot(W2) + b2
    expA = np.exp(A - A.max(axis=1, keepdims=True))
    return expA / expA.sum(axis=1, keepdims=True), Z


def cost(T, Y):
    return -np.mean(np.sum(T * np.log(Y), axis=1))


rng = np.random.default_rng(5)
X = rng.normal(size=(240, 3))
labels = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
T = np.eye(3)[labels]
W1, b1 = rng.normal(scale=0.5, size=(3, 10)), np.zeros(10)
W2, b2 = rng.normal(scale=0.5, size=(10, 3)), np.zeros(3)
learning_rate = 0.0005
for i in range(500):
    Y, Z = forward(X, W1, b1, W2, b2)
    c = cost(T, Y)
    dW2 = Z.T.dot(T - Y)
    db2 = (T - Y).sum(axis=0)
    dZ = (T - Y).dot(W2.T) * (1 - Z * Z)
    dW1 = X.T.dot(dZ)
    db1 = dZ.sum(axis=0)
    W2 += learning_rate * dW2
    b2 += learning_rate * db2
    W1 += learning_rate * dW1
    b1 += learning_rate * db1
'''

RIGHT = "    W1 += learning_rate * dW1\n"


def test_the_update_written_the_other_way_is_named(tmp_path):
    path = planted(tmp_path, "ascent.py", PROGRAM, RIGHT, "    W1 -= learning_rate * dW1\n")
    (error,) = errors(check(path))
    assert error["line"] == line_of(path, "W1 -= learning_rate * dW1")
    assert error["fix"] == "W1 += learning_rate * dW1"


def test_updates_written_alike_get_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "ascent.py", PROGRAM, RIGHT, RIGHT))) == []
