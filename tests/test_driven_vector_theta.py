"""A gradient descent written for a vector of weights beside a vector of targets, and never called.

The Coursera course's Python port writes `gradientDescent(X, y, theta, alpha, num_iters)` with
`theta = theta - (alpha / m) * np.dot(np.dot(X, theta) - y, X)`: `np.dot(error, X)` only runs
when `theta` and `y` are vectors (a column of weights makes the error a matrix and the product
fails). The driver hands a vector of weights beside the layout whose targets are a vector of
labels, so the function runs and its update is checked.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

VECTOR_GD = """\
    import numpy as np


    def cost_of(X, y, theta):
        m = y.shape[0]
        return np.sum((X.dot(theta) - y) ** 2) / (2 * m)


    def gradientDescent(X, y, theta, alpha, num_iters):
        m = y.shape[0]
        theta = theta.copy()
        J_history = []
        for i in range(num_iters):
            J = cost_of(X, y, theta)
            theta = theta - (alpha / m) * np.dot(np.dot(X, theta) - y, X)
            J_history.append(J)
        return theta, J_history
"""


def test_a_vector_theta_gradient_descent_is_driven_with_vectors_and_clean(tmp_path):
    report = check(write(tmp_path, "ex1.py", VECTOR_GD))
    assert errors(report) == []
    result = replayed(report)
    assert [p["name"] for p in result["parameters"]] == ["theta"]
    assert "y=integer labels (32,), theta=small random (12,)" in result["driver"]


def test_its_update_added_instead_of_subtracted_is_found_at_its_line(tmp_path):
    wrong = "theta = theta + (alpha / m) * np.dot(np.dot(X, theta) - y, X)"
    path = planted(tmp_path, "ex1.py", VECTOR_GD, "theta = theta - (alpha / m) * np.dot(np.dot(X, theta) - y, X)", wrong)
    (error,) = errors(check(path))
    assert error["name"] == "step-gradient-mismatch"
    assert error["line"] == line_of(path, wrong)
