"""Cost functions that hand a minimiser the cost and its gradient (`costFunction(theta, X, y) ->
(J, grad)`), as Andrew Ng's machine-learning course has students write them in Python.

Nothing in such a file updates a parameter, so no training step is replayed: the function itself
is checked, its gradient against the finite differences of its cost, with the regularisation
strength at 0.1."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LOGISTIC = '''\
import numpy as np
from scipy import optimize


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def costFunctionReg(theta, X, y, lambda_):
    m = y.size
    h = sigmoid(X.dot(theta))
    J = -(y.dot(np.log(h)) + (1 - y).dot(np.log(1 - h))) / m + lambda_ / (2 * m) * np.sum(theta[1:] ** 2)
    grad = X.T.dot(h - y) / m
    grad[1:] = grad[1:] + (lambda_ / m) * theta[1:]
    return J, grad


def linearRegCostFunction(X, y, theta, lambda_=0.0):
    m = y.size
    error = X.dot(theta) - y
    J = error.dot(error) / (2 * m) + lambda_ / (2 * m) * np.sum(theta[1:] ** 2)
    grad = X.T.dot(error) / m
    grad[1:] += lambda_ / m * theta[1:]
    return J, grad


rng = np.random.default_rng(0)
X = np.concatenate([np.ones((60, 1)), rng.normal(size=(60, 2))], axis=1)
y = (X[:, 1] + X[:, 2] > 0).astype(float)
res = optimize.minimize(costFunctionReg, np.zeros(3), (X, y, 1.0), jac=True, method="TNC", options={"maxiter": 100})
'''

NETWORK = '''\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoidGradient(z):
    g = sigmoid(z)
    return g * (1 - g)


def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
    Theta1 = np.reshape(nn_params[:hidden_layer_size * (input_layer_size + 1)], (hidden_layer_size, input_layer_size + 1))
    Theta2 = np.reshape(nn_params[hidden_layer_size * (input_layer_size + 1):], (num_labels, hidden_layer_size + 1))
    m = y.size
    a1 = np.concatenate([np.ones((m, 1)), X], axis=1)
    z2 = a1.dot(Theta1.T)
    a2 = np.concatenate([np.ones((m, 1)), sigmoid(z2)], axis=1)
    a3 = sigmoid(a2.dot(Theta2.T))
    y_matrix = np.eye(num_labels)[y]
    J = -np.sum(y_matrix * np.log(a3) + (1 - y_matrix) * np.log(1 - a3)) / m
    J += lambda_ / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
    delta3 = a3 - y_matrix
    delta2 = delta3.dot(Theta2)[:, 1:] * sigmoidGradient(z2)
    Theta1_grad = delta2.T.dot(a1) / m
    Theta2_grad = delta3.T.dot(a2) / m
    Theta1_grad[:, 1:] += lambda_ / m * Theta1[:, 1:]
    Theta2_grad[:, 1:] += lambda_ / m * Theta2[:, 1:]
    grad = np.concatenate([Theta1_grad.ravel(), Theta2_grad.ravel()])
    return J, grad
'''


def test_correct_cost_functions_are_checked_and_clean(tmp_path):
    path = write(tmp_path, "ex2.py", LOGISTIC)
    report = check(path)
    assert errors(report) == []
    checked = {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}
    assert checked == {("costFunctionReg", "theta"), ("linearRegCostFunction", "theta")}


def test_a_penalty_the_gradient_forgets_is_found_where_the_gradient_is_made(tmp_path):
    path = planted(tmp_path, "ex2.py", LOGISTIC, "    grad[1:] = grad[1:] + (lambda_ / m) * theta[1:]\n", "")
    (finding,) = errors(check(path))
    assert finding["layer"] == "costFunctionReg"
    assert finding["name"] == "gradient-mismatch"
    assert finding["line"] in {line_of(path, "grad = X.T.dot(h - y) / m"), line_of(path, "return J, grad")}


def test_a_gradient_missing_the_mean_over_the_samples_is_found(tmp_path):
    path = planted(tmp_path, "ex2.py", LOGISTIC, "    grad = X.T.dot(error) / m\n", "    grad = X.T.dot(error)\n")
    (finding,) = errors(check(path))
    assert finding["layer"] == "linearRegCostFunction"


def test_a_network_cost_function_over_unrolled_weights_is_checked(tmp_path):
    path = write(tmp_path, "ex4.py", NETWORK)
    report = check(path)
    assert errors(report) == []
    # the unrolled vector is checked as the two matrices it holds (`tests/test_unrolled_network_cost.py`)
    assert {(m["param"], m["verdict"]) for m in report["measurements"] if m["layer"] == "nnCostFunction"} == {("Theta1", "ok"), ("Theta2", "ok")}


def test_a_hidden_delta_without_the_sigmoid_gradient_is_an_error_of_the_network_cost(tmp_path):
    path = planted(tmp_path, "ex4.py", NETWORK, "delta2 = delta3.dot(Theta2)[:, 1:] * sigmoidGradient(z2)", "delta2 = delta3.dot(Theta2)[:, 1:]")
    (finding,) = errors(check(path))
    assert (finding["layer"], finding["name"], finding["param"]) == ("nnCostFunction", "gradient-mismatch", "Theta1")  # Theta2 is right


def test_the_template_as_handed_out_is_not_called_clean(tmp_path):
    """`J = 0` and `grad = np.zeros(theta.shape)` returned as they are: nothing is written yet."""
    template = '''\
import numpy as np


def costFunction(theta, X, y):
    m = y.size
    J = 0
    grad = np.zeros(theta.shape)
    # ====================== YOUR CODE HERE ======================

    # =============================================================
    return J, grad
'''
    path = write(tmp_path, "ex2.py", template)
    report = check(path)
    assert not report["verdict"].startswith("✓")
    assert "is not written yet): write it and check again" in report["verdict"]
    (built,) = [b for b in report["built"] if b["what"] == "costFunction"]
    assert built["skipped"] == "`costFunction` returns a cost of 0 and a gradient of zeros: it is not written yet"


def test_a_cost_alone_is_no_cost_function_to_check(tmp_path):
    """`computeCost(X, y, theta)` returns J only: nothing to compare, so nothing to fail to build."""
    path = write(tmp_path, "ex1.py", '''\
import numpy as np


def computeCost(X, y, theta):
    m = y.size
    return np.sum((X.dot(theta) - y) ** 2) / (2 * m)
''')
    report = check(path)
    assert [b for b in report["built"] if b["what"] == "computeCost"] == []
    assert errors(report) == []


OWN_DATA = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def costFunction(theta, X, y):
    m = y.size
    h = sigmoid(X.dot(theta))
    J = -(y.dot(np.log(h)) + (1 - y).dot(np.log(1 - h))) / m
    grad = np.zeros(theta.size)
    for j in range(5):  # written for this data's five columns
        grad[j] = np.dot(h - y, X[:, j]) / m
    return J, grad


rng = np.random.default_rng(2)
X = np.concatenate([np.ones((20, 1)), rng.normal(size=(20, 4))], axis=1)
y = (X[:, 1] - X[:, 2] > 0).astype(float)
cost, grad = costFunction(np.zeros(5), X, y)
print(cost, grad)
'''


def test_a_cost_function_the_program_calls_is_checked_on_the_programs_own_data(tmp_path):
    path = write(tmp_path, "ex2.py", OWN_DATA)
    report = check(path)
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "costFunction"]
    assert f"as your program called it (line {line_of(path, 'cost, grad = costFunction(')})" in built["shapes"]
    assert "X (20, 5)" in built["shapes"]
