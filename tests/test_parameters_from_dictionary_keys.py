"""Coursera-style forward/backward functions whose initialiser lives in a helper file the user lacks.

The deep-learning course's gradient-checking and regularisation notebooks define
`forward_propagation_n(X, Y, parameters)` (returning the cost and a cache) and
`backward_propagation_n(X, Y, cache)`, but build the parameters in `testCases.py` or
`reg_utils.py`, which a pasted copy does not have. The parameters are now built from the
literal keys the forward reads (`parameters["W1"]` ... `parameters["b3"]`, column-major), so
the pair is checked instead of being "nothing to check"; the notebook's own planted bugs
(a factor in `dW2`, another in `db1`) are found at their lines.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

GRADIENT_CHECKING = '''\
import numpy as np
from gc_utils import sigmoid, relu
from testCases import gradient_check_n_test_case


def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    # 交叉熵损失 (cross-entropy)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(logprobs)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return cost, cache


def backward_propagation_n(X, Y, cache):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2,
            "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


X, Y, parameters = gradient_check_n_test_case()
cost, cache = forward_propagation_n(X, Y, parameters)
gradients = backward_propagation_n(X, Y, cache)
'''

DROPOUT = '''\
import numpy as np
from reg_utils import sigmoid, relu, initialize_parameters, compute_cost


def forward_propagation_with_dropout(X, parameters, keep_prob=0.5):
    np.random.seed(1)
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    D1 = (np.random.rand(A1.shape[0], A1.shape[1]) < keep_prob).astype(int)
    A1 = A1 * D1 / keep_prob
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    return A2, (Z1, D1, A1, W1, b1, Z2, A2, W2, b2)


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    m = X.shape[1]
    (Z1, D1, A1, W1, b1, Z2, A2, W2, b2) = cache
    dZ2 = A2 - Y
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dA1 = dA1 * D1 / keep_prob
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
'''

LABEL = "forward_propagation_n/backward_propagation_n"


def test_a_correct_gradient_checking_pair_is_built_from_the_keys_and_clean(tmp_path):
    report = check(write(tmp_path, "gradient_checking.py", GRADIENT_CHECKING))
    assert errors(report) == []
    measured = {m["param"] for m in report["measurements"] if m["layer"] == LABEL}
    assert measured == {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_a_factor_of_two_in_dw2_is_reported_at_its_line(tmp_path):
    path = planted(
        tmp_path, "gradient_checking.py", GRADIENT_CHECKING,
        "dW2 = 1.0 / m * np.dot(dZ2, A1.T)", "dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2",
    )  # fmt: skip
    report = check(path)
    found = {(f["code"], f["param"], f["line"]) for f in errors(report)}
    assert found == {("BPD101", "W2", line_of(path, "dW2 = 1.0 / m"))}
    (finding,) = errors(report)
    assert "2 ×" in finding["message"]


def test_a_factor_of_four_in_db1_is_reported_at_its_line(tmp_path):
    path = planted(
        tmp_path, "gradient_checking.py", GRADIENT_CHECKING,
        "db1 = 1.0 / m * np.sum(dZ1", "db1 = 4.0 / m * np.sum(dZ1",
    )  # fmt: skip
    report = check(path)
    found = {(f["code"], f["param"], f["line"]) for f in errors(report)}
    assert found == {("BPD101", "b1", line_of(path, "db1 = 4.0 / m"))}
    (finding,) = errors(report)
    # X holds one sample per column: the 4 features are not the batch
    assert "4 × the numerical gradient" in finding["message"] and "batch size" not in finding["message"]


def test_a_dropout_pair_without_its_initialiser_is_checked_and_its_missing_rescale_found(tmp_path):
    clean = check(write(tmp_path / "a", "dropout.py", DROPOUT))
    assert errors(clean) == []
    assert {m["param"] for m in clean["measurements"]} >= {"W1", "b1"}
    path = planted(tmp_path / "b", "dropout.py", DROPOUT, "dA1 = dA1 * D1 / keep_prob", "dA1 = dA1 * D1")
    found = {(f["code"], f["param"]) for f in errors(check(path))}
    assert {("BPD101", "W1"), ("BPD101", "b1")} <= found


def test_a_forward_that_reads_other_keys_is_not_guessed(tmp_path):
    """Keys beyond numbered weights and biases (a batch-norm `gamma1`) cannot be guessed safely:
    the pair stays unbuilt, with the reason, and no finding is made up."""
    text = GRADIENT_CHECKING.replace('    b3 = parameters["b3"]\n', '    b3 = parameters["b3"]\n    g = parameters["gamma1"]\n')
    report = check(write(tmp_path, "gradient_checking.py", text))
    assert errors(report) == []
    assert [(f["code"], f["severity"]) for f in report["findings"] if f["code"] == "BPD007"] == [("BPD007", "warning")]
    (skipped,) = [b for b in report["built"] if b["what"] == LABEL]
    assert skipped["skipped"] == "no initialize_parameters(...) function to build the parameters with"
