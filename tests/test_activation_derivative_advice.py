"""The advice for a wrong hidden adjoint whose forward value goes through one activation: the
activation's derivative, written with the program's own names, whether or not the program keeps an
adjoint of the activation's output (deeplearning.ai's `dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))`
has no `dA1`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def initialize_parameters(n_x, n_h, n_y):
    np.random.seed(2)
    return {"W1": np.random.randn(n_h, n_x) * 0.5, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.5, "b2": np.zeros((n_y, 1))}


def forward_propagation(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.dot(parameters["W2"].T, dZ2) * (1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    for k in ("W1", "b1", "W2", "b2"):
        parameters[k] = parameters[k] - learning_rate * grads["d" + k]
    return parameters


def nn_model(X, Y, n_h, num_iterations=1000):
    parameters = initialize_parameters(X.shape[0], n_h, Y.shape[0])
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
    return parameters


np.random.seed(1)
X = np.random.randn(2, 200)
Y = (X[0:1] * X[1:2] > 0).astype(float)
nn_model(X, Y, 4)
'''

RIGHT = 'dZ1 = np.dot(parameters["W2"].T, dZ2) * (1 - np.power(A1, 2))'
SLOPE_LEFT_OUT = 'dZ1 = np.dot(parameters["W2"].T, dZ2)'


def test_the_right_functions_get_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "planar.py", PROGRAM, RIGHT, RIGHT))) == []


def test_the_tanh_slope_left_out_is_advised_as_the_tanh_derivative_of_the_kept_activation(tmp_path):
    path = planted(tmp_path, "planar.py", PROGRAM, RIGHT, SLOPE_LEFT_OUT)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["param"], root["line"]) == ("BPD108", "dZ1", line_of(path, SLOPE_LEFT_OUT))
    assert root["message"].endswith(
        f"`A1` is the tanh of `Z1` (line {line_of(path, 'A1 = np.tanh(Z1)')}), so `dZ1` must be the gradient with "
        "respect to `A1` × the tanh's derivative, `1 - A1 ** 2`"
    )
