"""A file with a wrong function its program never calls (a `tanh_backward` that forgets `dA`, in a
network configured with ReLU) and a wrong gradient in the step it does run: the first does not
explain the second, so the replayed step's finding is still made, at its own line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """\
import numpy as np


def relu(Z):
    return np.maximum(0, Z)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def tanh_backward(dA, Z):
    t = np.tanh(Z)
    return 1 - t * t


def main():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    Y = (X[0:1] + X[1:2] > 0).astype(float)
    m = X.shape[1]
    W1, b1 = rng.standard_normal((4, 3)) * 0.5, np.zeros((4, 1))
    W2, b2 = rng.standard_normal((1, 4)) * 0.5, np.zeros((1, 1))
    for i in range(100):
        Z1 = W1 @ X + b1
        A1 = relu(Z1)
        A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
        cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m
        db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = relu_backward(W2.T @ dZ2, Z1)
        dW1 = dZ1 @ X.T / m
        db1 = dZ1.sum(axis=1, keepdims=True) / m
        W1 -= 0.5 * dW1
        b1 -= 0.5 * db1
        W2 -= 0.5 * dW2
        b2 -= 0.5 * db2


if __name__ == "__main__":
    main()
"""


def test_the_dormant_wrong_function_is_found_alone_when_the_step_is_right(tmp_path):
    path = write(tmp_path, "net.py", PROGRAM)
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "return 1 - t * t"))


def test_a_wrong_step_gradient_is_found_beside_a_dormant_wrong_function(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, "dW2 = dZ2 @ A1.T / m", "dW2 = dZ2 @ A1.T")
    found = {f["name"]: f for f in errors(check(path))}
    assert found["step-gradient-mismatch"]["line"] == line_of(path, "dW2 = dZ2 @ A1.T")
    assert found["gradient-mismatch"]["line"] == line_of(path, "return 1 - t * t")
