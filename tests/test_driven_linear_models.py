"""A training function that takes the model's own parameters as arguments, and nothing calls it.

Course files define `optimize(w, b, X, Y, num_iterations, learning_rate)` (logistic regression,
with `propagate` beside it) or `gradient_descent(X, y, theta, alpha, num_iters)` and leave the
call to a notebook. The driver hands such a function a small synthetic batch and small random
weights, one per feature (`w.T @ X` and `X @ w` both take a column), a bias of 0.0, and replays
its first update.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

LOGISTIC = """\
    import numpy as np

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def propagate(w, b, X, Y):
        m = X.shape[1]
        A = sigmoid(np.dot(w.T, X) + b)
        cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
        dw = np.dot(X, (A - Y).T) / m
        db = np.sum(A - Y) / m
        return {"dw": dw, "db": db}, cost

    def optimize(w, b, X, Y, num_iterations, learning_rate, print_cost=False):
        costs = []
        for i in range(num_iterations):
            grads, cost = propagate(w, b, X, Y)
            dw = grads["dw"]
            db = grads["db"]
            w = w - learning_rate * dw
            b = b - learning_rate * db
            if i % 100 == 0:
                costs.append(cost)
        return {"w": w, "b": b}, grads, costs
"""

LINEAR = """\
    import numpy as np

    def compute_cost(X, y, theta):
        m = len(y)
        return np.sum((X @ theta - y) ** 2) / (2 * m)

    def gradient_descent(X, y, theta, alpha, num_iters):
        m = len(y)
        history = []
        for _ in range(num_iters):
            error = X @ theta - y
            gradient = X.T @ error / m
            theta = theta - alpha * gradient
            history.append(compute_cost(X, y, theta))
        return theta, history
"""


def test_a_logistic_optimize_taking_w_and_b_is_driven_and_clean(tmp_path):
    report = check(write(tmp_path, "optimize.py", LOGISTIC))
    assert errors(report) == []
    result = replayed(report)
    assert {p["name"] for p in result["parameters"]} == {"w", "b"}
    assert "w=small random (12, 1), b=0.0" in result["driver"]


def test_its_wrong_bias_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "optimize.py", LOGISTIC, "db = np.sum(A - Y) / m", "db = np.sum(A - Y)")
    (error,) = errors(check(path))
    assert error["name"] == "step-gradient-mismatch"
    assert error["line"] == line_of(path, "db = np.sum(A - Y)")
    assert "`b`" in error["message"]


def test_a_linear_regression_taking_theta_is_driven_and_its_flipped_update_found(tmp_path):
    right = write(tmp_path, "right/gd.py", LINEAR)
    report = check(right)
    assert errors(report) == []
    assert [p["name"] for p in replayed(report)["parameters"]] == ["theta"]
    wrong = planted(tmp_path, "wrong/gd.py", LINEAR, "theta = theta - alpha * gradient", "theta = theta + alpha * gradient")
    (error,) = errors(check(wrong))
    assert error["line"] == line_of(wrong, "theta = theta + alpha")  # the update adds the step; `gradient` is right
    assert "adds `gradient`, which is the gradient of `compute_cost`" in error["message"]
