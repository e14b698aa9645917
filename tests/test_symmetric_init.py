"""A program whose weight matrices all start with identical units is told why it cannot learn.

`W1 = np.zeros(...)` and `W2 = np.zeros(...)`: every hidden unit computes the same value and gets
the same gradient, so the units stay copies of one another. Every gradient is right; the
replay reads the weights where the training loop runs and names the initialisation.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

ZERO_INIT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(200, 2)
y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)

W1 = np.zeros((2, 8))
b1 = np.zeros((1, 8))
W2 = np.zeros((8, 1))
b2 = np.zeros((1, 1))
lr = 0.5
for epoch in range(2000):
    h = np.tanh(X @ W1 + b1)
    out = 1 / (1 + np.exp(-(h @ W2 + b2)))
    loss = np.mean((out - y) ** 2)
    d_out = 2 * (out - y) / len(X) * out * (1 - out)
    dW2 = h.T @ d_out
    db2 = d_out.sum(axis=0, keepdims=True)
    d_h = d_out @ W2.T * (1 - h ** 2)
    dW1 = X.T @ d_h
    db1 = d_h.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
    if epoch % 500 == 0:
        print(epoch, loss)
'''


def _symmetric(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD611"]


def test_weights_that_all_start_at_zero_are_the_root_cause_at_the_first_of_them(tmp_path):
    path = write(tmp_path, "xor_zero.py", ZERO_INIT)
    report = check(path)
    (finding,) = _symmetric(report)
    assert finding["line"] == line_of(path, "W1 = np.zeros")
    assert "`W1`, `W2`" in finding["message"] and "b1" not in finding["message"]
    assert report["findings"][report["root_cause"]] == finding


def test_random_weights_break_the_symmetry_and_are_clean(tmp_path):
    text = ZERO_INIT.replace("W2 = np.zeros((8, 1))", "W2 = np.random.randn(8, 1) * 0.5")
    path = planted(tmp_path, "xor_random.py", text, "W1 = np.zeros((2, 8))", "W1 = np.random.randn(2, 8) * 0.5")
    report = check(path)
    assert errors(report) == [] and _symmetric(report) == []


def test_a_zero_output_layer_behind_random_hidden_weights_is_fine(tmp_path):
    path = planted(tmp_path, "xor_out.py", ZERO_INIT, "W1 = np.zeros((2, 8))", "W1 = np.random.randn(2, 8) * 0.5")
    report = check(path)
    assert _symmetric(report) == [] and errors(report) == []


def test_one_sample_per_column_with_zero_weights_is_found_too(tmp_path):
    text = (
        ZERO_INIT.replace("X = np.random.randn(200, 2)", "X = np.random.randn(2, 200)")
        .replace("y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)", "y = ((X[0] * X[1]) > 0).astype(float).reshape(1, -1)")
        .replace("W1 = np.zeros((2, 8))", "W1 = np.zeros((8, 2))")
        .replace("b1 = np.zeros((1, 8))", "b1 = np.zeros((8, 1))")
        .replace("W2 = np.zeros((8, 1))", "W2 = np.zeros((1, 8))")
        .replace("h = np.tanh(X @ W1 + b1)", "h = np.tanh(W1 @ X + b1)")
        .replace("out = 1 / (1 + np.exp(-(h @ W2 + b2)))", "out = 1 / (1 + np.exp(-(W2 @ h + b2)))")
        .replace("/ len(X)", "/ X.shape[1]")
        .replace("dW2 = h.T @ d_out", "dW2 = d_out @ h.T")
        .replace("db2 = d_out.sum(axis=0, keepdims=True)", "db2 = d_out.sum(axis=1, keepdims=True)")
        .replace("d_h = d_out @ W2.T * (1 - h ** 2)", "d_h = W2.T @ d_out * (1 - h ** 2)")
        .replace("dW1 = X.T @ d_h", "dW1 = d_h @ X.T")
        .replace("db1 = d_h.sum(axis=0, keepdims=True)", "db1 = d_h.sum(axis=1, keepdims=True)")
    )
    path = write(tmp_path, "columns_zero.py", text)
    report = check(path)
    assert [f["line"] for f in _symmetric(report)] == [line_of(path, "W1 = np.zeros")]
    assert [f for f in errors(report) if f["code"] != "BPD611"] == []  # its gradients are right


COURSE = '''\
import numpy as np


def initialize_parameters(n_x, n_h, n_y):
    W1 = np.zeros((n_h, n_x))
    b1 = np.zeros((n_h, 1))
    W2 = np.zeros((n_y, n_h))
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def update_parameters(parameters, grads, learning_rate=1.0):
    W1 = parameters["W1"] - learning_rate * grads["dW1"]
    b1 = parameters["b1"] - learning_rate * grads["db1"]
    W2 = parameters["W2"] - learning_rate * grads["dW2"]
    b2 = parameters["b2"] - learning_rate * grads["db2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def model(X, Y, n_h, iterations=2000):
    parameters = initialize_parameters(X.shape[0], n_h, Y.shape[0])
    m = X.shape[1]
    for i in range(iterations):
        A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
        A2 = 1 / (1 + np.exp(-(parameters["W2"] @ A1 + parameters["b2"])))
        cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m
        db2 = dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = parameters["W2"].T @ dZ2 * (1 - A1 ** 2)
        dW1 = dZ1 @ X.T / m
        db1 = dZ1.sum(axis=1, keepdims=True) / m
        parameters = update_parameters(parameters, {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2})
    return parameters


rng = np.random.default_rng(1)
X = rng.normal(size=(2, 300))
Y = (X[0] * X[1] > 0).astype(float).reshape(1, -1)
model(X, Y, 4)
'''


def test_zero_weights_made_in_an_initialisation_function_are_named_where_they_are_made(tmp_path):
    # the course's layout: the weights are made under their own names in a function that returns them in a dict,
    # read as `parameters['W1']` by the loop; the finding is at the line that makes the first of them
    path = write(tmp_path, "planar.py", COURSE)
    (finding,) = _symmetric(check(path))
    assert finding["line"] == line_of(path, "W1 = np.zeros((n_h, n_x))")
