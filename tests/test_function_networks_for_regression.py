"""A deeplearning.ai-style network used for regression: a linear output, its cost computed inline in
the loop, no `compute_cost`. With no cost function and no probability in its output, no cross-entropy
is made up for it (one was, and its log of a negative output was reported as the forward's NaN): its
loss is the training loop's own, and the loop's replay checks it."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def L_model_forward(X, parameters):
    A = np.maximum(0, parameters["W1"] @ X + parameters["b1"])
    ZL = parameters["W2"] @ A + parameters["b2"]
    return ZL, (X, A)


def L_model_backward(AL, Y, caches, parameters):
    X, A = caches
    m = X.shape[1]
    dZ2 = (AL - Y) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (A > 0)
    return {"dW2": dZ2 @ A.T, "db2": dZ2.sum(axis=1, keepdims=True),
            "dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True)}


np.random.seed(1)
X = np.random.randn(3, 100)
Y = (X[0] - 2 * X[1]).reshape(1, -1)
parameters = {"W1": np.random.randn(8, 3) * 0.5, "b1": np.zeros((8, 1)),
              "W2": np.random.randn(1, 8) * 0.5, "b2": np.zeros((1, 1))}
for i in range(200):
    AL, caches = L_model_forward(X, parameters)
    cost = 0.5 * np.mean((AL - Y) ** 2)
    grads = L_model_backward(AL, Y, caches, parameters)
    for k in ("W1", "b1", "W2", "b2"):
        parameters[k] = parameters[k] - 0.05 * grads["d" + k]
    if i % 50 == 0:
        print(i, cost)
'''

RIGHT = "dZ1 = (parameters[\"W2\"].T @ dZ2) * (A > 0)"


def test_the_regression_network_is_checked_by_its_own_loop_and_is_clean(tmp_path):
    report = check(planted(tmp_path, "regress.py", PROGRAM, RIGHT, RIGHT))
    assert report["findings"] == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {
        "parameters['W1']", "parameters['b1']", "parameters['W2']", "parameters['b2']"
    }


def test_a_relu_mask_left_out_is_found_by_the_loop_in_the_backward_that_returns_the_gradients(tmp_path):
    """`grads['d' + k]` read by the update is the entry `grads['dW1']` the backward returns: its statement."""
    wrong = "dZ1 = (parameters[\"W2\"].T @ dZ2)"
    path = planted(tmp_path, "regress.py", PROGRAM, RIGHT, wrong)
    (found,) = errors(check(path))
    assert (found["param"], found["line"]) == ("parameters['W1']", line_of(path, 'return {"dW2"'))
    assert "`parameters['W1']` and `parameters['b1']`" in found["message"]
