"""A one-output network's bias gradient is one number, the sum of its output error: a wrong output
error can sum to the right number while every entry is off. Here the targets are read in another
order than the rates (`Y[::-1]`, as targets shuffled apart from their inputs are): the sum, and so
the bias's gradient, is exactly right. That one number agreeing does not clear the output error,
which is named at its line rather than the adjoint after it.

Two styles: Ng-style functions with a `cache` dict and a `grads` dict, and a flat script.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

FUNCTIONS = '''\
import numpy as np


def initialize(n_x, n_h, seed=1):
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_x, n_h) * 0.1, "b1": np.zeros((1, n_h)), "W2": rng.randn(n_h, 1) * 0.1, "b2": np.zeros((1, 1))}


def forward(X, parameters):
    Z1 = X @ parameters["W1"] + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = A1 @ parameters["W2"] + parameters["b2"]
    return Z2, {"A1": A1, "Z2": Z2}


def cost_of(Z2, Y):
    return np.mean(np.exp(Z2) - Y * Z2)


def backward(X, Y, parameters, cache):
    m = X.shape[0]
    Z2, A1 = cache["Z2"], cache["A1"]
    rate = np.exp(Z2)
    dZ2 = (rate - Y) / m
    dW2 = A1.T @ dZ2
    db2 = np.sum(dZ2, axis=0, keepdims=True)
    dA1 = dZ2 @ parameters["W2"].T
    dZ1 = dA1 * (1 - A1 ** 2)
    return {"dW1": X.T @ dZ1, "db1": np.sum(dZ1, axis=0, keepdims=True), "dW2": dW2, "db2": db2}


rng = np.random.RandomState(7)
X = rng.uniform(-1, 1, (200, 3))
Y = rng.poisson(np.exp(0.3 * X[:, :1] - 0.2 * X[:, 1:2] + 0.1)).astype(float)
parameters = initialize(3, 8)
for i in range(300):
    Z2, cache = forward(X, parameters)
    cost = cost_of(Z2, Y)
    grads = backward(X, Y, parameters, cache)
    for key in ("W1", "b1", "W2", "b2"):
        parameters[key] = parameters[key] - 0.1 * grads["d" + key]
    if i % 60 == 0:
        print(i, cost)
'''

SCRIPT = '''\
import numpy as np

rng = np.random.RandomState(3)
X = rng.uniform(-1, 1, (200, 2))
Y = rng.poisson(np.exp(0.4 * X[:, :1] + 0.2)).astype(float)
W1, b1 = rng.randn(2, 6) * 0.1, np.zeros((1, 6))
W2, b2 = rng.randn(6, 1) * 0.1, np.zeros((1, 1))
for i in range(300):
    A1 = np.tanh(X @ W1 + b1)
    Z2 = A1 @ W2 + b2
    rate = np.exp(Z2)
    cost = np.mean(rate - Y * Z2)
    dZ2 = (rate - Y) / len(X)
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dA1 = dZ2 @ W2.T
    dZ1 = dA1 * (1 - A1 ** 2)
    W1 -= 0.1 * X.T @ dZ1
    b1 -= 0.1 * dZ1.sum(axis=0, keepdims=True)
    W2 -= 0.1 * dW2
    b2 -= 0.1 * db2
    if i % 60 == 0:
        print(i, cost)
'''


@pytest.mark.parametrize(
    "text, correct, wrong",
    [
        (FUNCTIONS, "    dZ2 = (rate - Y) / m\n", "    dZ2 = (rate - Y[::-1]) / m\n"),
        (SCRIPT, "    dZ2 = (rate - Y) / len(X)\n", "    dZ2 = (rate - Y[::-1]) / len(X)\n"),
    ],
    ids=["functions", "script"],
)
def test_the_output_error_is_named_not_the_adjoint_after_it(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "poisson.py", text, correct, wrong)
    found = errors(check(path, training=True))
    assert found and found[0]["line"] == line_of(path, wrong.strip()), [(f["line"], f["message"][:80]) for f in found]


@pytest.mark.parametrize("text", [FUNCTIONS, SCRIPT], ids=["functions", "script"])
def test_the_correct_programs_are_clean(tmp_path, text):
    path = planted(tmp_path, "poisson.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path, training=True)) == []
