"""An autoencoder in the deep-learning course's function style: `backward_propagation(parameters,
cache, X)` reads no targets but the input (`dZ2 = (A2 - X) / m`) and `compute_cost(A2, X)` compares
the output with the input. Built with the input as the targets, the correct one is clean (it was a
gradient-mismatch false alarm against made-up targets) and a wrong output error is found.

Two styles: a sigmoid output under a binary cross-entropy, and a linear output under a squared error
with the cost written `compute_loss(AL, X)`.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SIGMOID = '''\
import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def forward_propagation(X, parameters):
    A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
    A2 = sigmoid(parameters["W2"] @ A1 + parameters["b2"])
    return A2, {"A1": A1, "A2": A2}


def compute_cost(A2, X):
    m = X.shape[1]
    return float(-np.sum(X * np.log(A2) + (1 - X) * np.log(1 - A2)) / m)


def backward_propagation(parameters, cache, X):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = (A2 - X) / m
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def initialize_parameters(n_x, n_h):
    rng = np.random.RandomState(2)
    return {"W1": rng.randn(n_h, n_x) * 0.1, "b1": np.zeros((n_h, 1)), "W2": rng.randn(n_x, n_h) * 0.1, "b2": np.zeros((n_x, 1))}


rng = np.random.RandomState(0)
X = (rng.rand(6, 40) > 0.5).astype(float)
parameters = initialize_parameters(6, 3)
for i in range(200):
    A2, cache = forward_propagation(X, parameters)
    cost = compute_cost(A2, X)
    grads = backward_propagation(parameters, cache, X)
    for k in parameters:
        parameters[k] = parameters[k] - 0.5 * grads["d" + k]
'''

LINEAR = '''\
import numpy as np


def forward_propagation(X, parameters):
    A1 = np.maximum(0, parameters["W1"] @ X + parameters["b1"])
    AL = parameters["W2"] @ A1 + parameters["b2"]
    return AL, (A1, AL)


def compute_loss(AL, X):
    return float(np.sum((AL - X) ** 2) / (2 * X.shape[1]))


def backward_propagation(parameters, caches, X):
    A1, AL = caches
    m = X.shape[1]
    dAL = (AL - X) / m
    dW2 = dAL @ A1.T
    db2 = dAL.sum(axis=1, keepdims=True)
    dZ1 = (parameters["W2"].T @ dAL) * (A1 > 0)
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def initialize_parameters(n_x, n_h):
    rng = np.random.RandomState(3)
    return {"W1": rng.randn(n_h, n_x) * 0.3, "b1": np.zeros((n_h, 1)), "W2": rng.randn(n_x, n_h) * 0.3, "b2": np.zeros((n_x, 1))}


rng = np.random.RandomState(1)
X = rng.randn(5, 50)
parameters = initialize_parameters(5, 4)
for i in range(200):
    AL, caches = forward_propagation(X, parameters)
    loss = compute_loss(AL, X)
    grads = backward_propagation(parameters, caches, X)
    for k in parameters:
        parameters[k] -= 0.05 * grads["d" + k]
'''


@pytest.mark.parametrize("text", [SIGMOID, LINEAR], ids=["sigmoid-bce", "linear-mse"])
def test_the_correct_autoencoder_is_clean(tmp_path, text):
    path = planted(tmp_path, "ae.py", text, "import numpy as np", "import numpy as np")
    report = check(path)
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "forward_propagation/backward_propagation"]
    assert "Y = X" in built["shapes"] and built["skipped"] is None


@pytest.mark.parametrize(
    "text, correct, wrong",
    [(SIGMOID, "dZ2 = (A2 - X) / m", "dZ2 = (A2 - X) * A2 * (1 - A2) / m"), (LINEAR, "dAL = (AL - X) / m", "dAL = (AL - X)")],
    ids=["sigmoid-bce", "linear-mse"],
)
def test_a_wrong_output_error_is_found(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "ae.py", text, correct, wrong)
    found = [f for f in errors(check(path)) if f["layer"] and f["layer"].startswith("forward_propagation")]
    assert found and found[0]["line"] == line_of(path, wrong)
