"""Linear regression by gradient descent, the first "network" of many courses: `theta` moved by
`alpha * (1 / m) * X.T.dot(errors)` (no gradient-named variable, `m` a batch size, NumPy's `dot`),
or by an update that is the loop's first statement and computes its gradient inline. Each is
replayed; a wrong sign or factor is named at the update's line; the right ones are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = '''\
import numpy as np

np.random.seed(42)
m = 100
X_raw = 2 * np.random.rand(m, 1)
y = 4 + 3 * X_raw + np.random.randn(m, 1)
X = np.c_[np.ones((m, 1)), X_raw]

alpha = 0.1
theta = np.random.randn(2, 1)
cost_history = []
for i in range(1000):
    predictions = X.dot(theta)
    errors = predictions - y
    cost = (1 / (2 * m)) * np.sum(errors ** 2)
    theta = theta - alpha * (1 / m) * X.T.dot(errors)
    cost_history.append(cost)
'''

FUNCTIONS = '''\
import numpy as np


def compute_cost(X, y, theta):
    m = len(y)
    return np.sum((X @ theta - y) ** 2) / (2 * m)


def gradient_descent(X, y, theta, alpha, num_iters):
    m = len(y)
    J_history = []
    for i in range(num_iters):
        theta = theta - (alpha / m) * (X.T @ (X @ theta - y))
        J_history.append(compute_cost(X, y, theta))
    return theta, J_history


rng = np.random.default_rng(3)
data = rng.random((97, 1)) * 10
X = np.c_[np.ones(97), data[:, 0]]
y = 1.5 * data[:, 0] - 3 + rng.normal(size=97)
theta, J = gradient_descent(X, y, np.zeros(2), 0.01, 1500)
'''


def test_a_script_with_inline_names_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "linreg.py", SCRIPT))
    assert errors(report) == []
    (parameter,) = replayed(report)["parameters"]
    assert (parameter["name"], parameter["wrong"]) == ("theta", False)


def test_an_update_with_its_sign_flipped_is_named(tmp_path):
    path = planted(tmp_path, "linreg.py", SCRIPT, "theta = theta - alpha", "theta = theta + alpha")
    (found,) = errors(check(path))
    assert (found["name"], found["pattern"], found["line"]) == ("step-gradient-mismatch", "sign-flipped", line_of(path, "theta = theta + alpha"))


def test_an_update_that_opens_the_pass_is_measured_at_its_own_state(tmp_path):
    report = check(write(tmp_path, "gd.py", FUNCTIONS))
    assert errors(report) == []
    assert [p["wrong"] for p in replayed(report)["parameters"]] == [False]


def test_a_wrong_inline_gradient_is_named_at_the_update(tmp_path):
    path = planted(tmp_path, "gd.py", FUNCTIONS, "(X.T @ (X @ theta - y))", "(X.T @ (X @ theta + y))")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("step-gradient-mismatch", line_of(path, "theta = theta - (alpha / m)"))
    assert "`X.T @ (X @ theta + y) / m`" in found["message"]


def test_a_constant_factor_on_the_only_gradient_is_the_programs_scale(tmp_path):
    """One parameter moved by 2 × its gradient moves exactly as with twice the rate: not an error."""
    path = planted(tmp_path, "gd.py", FUNCTIONS, "(alpha / m) * (X.T", "(alpha / m) * 2 * (X.T")
    report = check(path)
    assert errors(report) == []
    (parameter,) = replayed(report)["parameters"]
    assert abs(parameter["factor"] - 2) < 1e-6
