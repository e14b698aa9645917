"""Gradients named as fractions (`dL_dZ`, `dL_dW`) in functions that return dictionaries.

`dL_dZ` is the loss's derivative with respect to `Z`: the adjoint walk pairs it with `Z`, so a
missing `/ m` is found at the statement that computes it, not at the two updates it feeds. A bias
of one entry, `(1, 1)`, moved by one summed number is not a gradient broadcast over its entries;
a wider bias is."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

REGRESSION = '''\
import numpy as np


def initialize_parameters(n_x, n_y):
    # 재현을 위해 시드를 고정한다
    np.random.seed(7)
    return {"W": np.random.randn(n_x, n_y) * 0.1, "b": np.zeros((1, n_y))}


def forward_propagation(X, parameters):
    Z = np.dot(X, parameters["W"]) + parameters["b"]
    return Z


def compute_loss(Y_hat, Y):
    # 평균 제곱 오차
    return np.sum(np.square(Y_hat - Y)) / len(Y)


def backward_propagation(X, Y, Z):
    # 연쇄 법칙: dL/dW = dL/dZ * dZ/dW
    dL_dZ = 2 * (Z - Y) / len(Y)
    dZ_dW = X
    dL_dW = np.dot(dZ_dW.T, dL_dZ)
    dL_db = np.sum(dL_dZ, axis=0, keepdims=True)
    return {"dW": dL_dW, "db": dL_db}


def update_parameters(parameters, grads, learning_rate):
    parameters["W"] -= learning_rate * grads["dW"]
    parameters["b"] -= learning_rate * grads["db"]
    return parameters


X = np.array([[1.0, 0.9, 0.95], [0.85, 0.75, 0.7], [1.0, 1.0, 1.0], [0.5, 0.4, 0.45], [0.6, 0.7, 0.2]])
Y = np.array([[0.95, 0.2], [0.8, 0.1], [1.0, 0.3], [0.5, 0.9], [0.55, 0.4]])[:, :N_OUT]

parameters = initialize_parameters(X.shape[1], Y.shape[1])
for epoch in range(200):
    Z = forward_propagation(X, parameters)
    loss = compute_loss(Z, Y)
    grads = backward_propagation(X, Y, Z)
    parameters = update_parameters(parameters, grads, 0.1)
'''


def _program(outputs: int) -> str:
    return REGRESSION.replace("N_OUT", str(outputs))


def test_a_correct_program_with_fraction_named_gradients_is_clean(tmp_path):
    for outputs in (1, 2):
        path = write(tmp_path / str(outputs), "regression.py", _program(outputs))
        assert errors(check(path)) == [], outputs


def test_a_missing_batch_division_is_found_where_dL_dZ_is_computed(tmp_path):
    """Every update carries the batch factor (the bias of one entry too): the program's scale, a warning
    where the factor enters, while the loss is not seen to rise with it."""
    path = planted(tmp_path, "regression.py", _program(1), "dL_dZ = 2 * (Z - Y) / len(Y)", "dL_dZ = 2 * (Z - Y)")
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "dL_dZ = 2 * (Z - Y)"))
    assert "follows 5 × the gradient of your loss (5 is the batch size)" in finding["message"]
    assert "from `dL_dZ` (line" in finding["message"] and "one number" not in finding["message"]


def test_a_bias_of_one_entry_summed_to_one_number_is_right(tmp_path):
    path = planted(tmp_path, "regression.py", _program(1), "dL_db = np.sum(dL_dZ, axis=0, keepdims=True)", "dL_db = np.sum(dL_dZ)")
    assert errors(check(path)) == []


def test_a_wider_bias_summed_to_one_number_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "regression.py", _program(2), "dL_db = np.sum(dL_dZ, axis=0, keepdims=True)", "dL_db = np.sum(dL_dZ)")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "dL_db = np.sum(dL_dZ)")
    assert "which is one number, where the parameter has shape (1, 2)" in finding["message"]
