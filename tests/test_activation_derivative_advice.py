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


SCRIPT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(32, 3)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = np.random.randn(3, 8) * 0.5
b1 = np.zeros((1, 8))
W2 = np.random.randn(8, 1) * 0.5
b2 = np.zeros((1, 1))


def relu(v):
    return np.maximum(0, v)


lr = 0.5
for epoch in range(200):
    z1 = X @ W1 + b1
    a1 = relu(z1)
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))
    loss = np.mean((a2 - y) ** 2)
    d_a2 = 2 * (a2 - y) / len(X)
    d_z2 = d_a2 * a2 * (1 - a2)
    dW2 = a1.T @ d_z2
    db2 = d_z2.sum(axis=0, keepdims=True)
    d_a1 = d_z2 @ W2.T
    d_z1 = d_a1 * (z1 > 0)
    dW1 = X.T @ d_z1
    db1 = d_z1.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''


def test_an_inverted_relu_mask_is_advised_as_the_relu_derivative_of_a_helper(tmp_path):
    right = "d_z1 = d_a1 * (z1 > 0)"
    assert errors(check(planted(tmp_path / "right", "relu_net.py", SCRIPT, right, right))) == []
    path = planted(tmp_path / "wrong", "relu_net.py", SCRIPT, right, "d_z1 = d_a1 * (z1 < 0)")
    (found,) = errors(check(path))
    assert (found["param"], found["line"]) == ("d_z1", line_of(path, "d_z1 = d_a1 * (z1 < 0)"))
    assert found["message"].endswith(
        f"`a1` is the ReLU of `z1` (line {line_of(path, 'a1 = relu(z1)')}), so `d_z1` must be `d_a1` × the ReLU's derivative, `(z1 > 0)`"
    )
