"""The derivative of tanh or the sigmoid written from its input (`1 - np.tanh(z) ** 2`,
`sigmoid(z) * (1 - sigmoid(z))`) but handed the activation's output: the activation is applied twice.
The report names the call, the output it was given, and the derivative written from the output."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


np.random.seed(1)
X = np.random.randn(40, 3)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = np.random.randn(3, 8) * 0.5
b1 = np.zeros(8)
W2 = np.random.randn(8, 1) * 0.5
b2 = np.zeros(1)
lr = 0.5
for it in range(200):
    z1 = X @ W1 + b1
    a1 = ACTIVATION(z1)
    z2 = a1 @ W2 + b2
    p = sigmoid(z2)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz2 = (p - y) / len(X)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(0)
    da1 = dz2 @ W2.T
    dz1 = da1 * DERIVATIVE
    dW1 = X.T @ dz1
    db1 = dz1.sum(0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

CASES = {
    "tanh": ("np.tanh", "(1 - np.tanh(z1) ** 2)", "(1 - np.tanh(a1) ** 2)", "1 - a1 ** 2"),
    "sigmoid": ("sigmoid", "sigmoid(z1) * (1 - sigmoid(z1))", "sigmoid(a1) * (1 - sigmoid(a1))", "a1 * (1 - a1)"),
}


def _script(activation: str, derivative: str) -> str:
    return SCRIPT.replace("ACTIVATION", activation).replace("DERIVATIVE", derivative)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_derivative_of_the_input_is_clean(tmp_path, kind):
    activation, right, _, _ = CASES[kind]
    assert errors(check(write(tmp_path, "net.py", _script(activation, right)))) == []


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_activation_applied_to_its_own_output_is_named(tmp_path, kind):
    activation, right, wrong, fix = CASES[kind]
    path = planted(tmp_path, "net.py", _script(activation, right), right, wrong)
    (finding,) = errors(check(path))
    assert (finding["param"], finding["line"], finding["pattern"]) == ("dz1", line_of(path, "dz1 = da1 *"), "derivative-of-output")
    assert f"applies {kind} again to `a1`, which is already {kind}'s output (line {line_of(path, 'a1 = ')})" in finding["message"]
    assert f"`{fix}`" in finding["message"]
