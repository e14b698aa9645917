"""Models fitted by a hand-derived gradient in the styles of two textbooks: a class whose `fit`
moves `self.w_[1:]` and `self.w_[0]` (the weights and the bias in one array) and appends its cost,
and a `gradientDescent(X, y, theta, alpha, num_iters)` whose hypothesis is `h` and whose cost is
appended through `computeCost`. Each update is compared; a sign flipped is found at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

ADALINE = '''\
import numpy as np


class AdalineGD:
    def __init__(self, eta=0.01, n_iter=50, random_state=1):
        self.eta = eta
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, X, y):
        rgen = np.random.RandomState(self.random_state)
        self.w_ = rgen.normal(loc=0.0, scale=0.01, size=1 + X.shape[1])
        self.cost_ = []
        for i in range(self.n_iter):
            output = self.activation(self.net_input(X))
            errors = y - output
            self.w_[1:] += self.eta * X.T.dot(errors)
            self.w_[0] += self.eta * errors.sum()
            cost = (errors ** 2).sum() / 2.0
            self.cost_.append(cost)
        return self

    def net_input(self, X):
        return np.dot(X, self.w_[1:]) + self.w_[0]

    def activation(self, X):
        return X


np.random.seed(0)
X = np.random.randn(40, 3)
y = np.where(X[:, 0] - X[:, 1] > 0, 1, -1)
ada = AdalineGD(eta=0.01, n_iter=20).fit(X, y)
print(ada.cost_[-1])
'''

GRADIENT_DESCENT = '''\
import numpy as np

np.random.seed(0)
m = 50
X = np.c_[np.ones(m), np.random.randn(m, 2)]
y = X @ np.array([1.0, 2.0, -3.0]) + 0.1 * np.random.randn(m)


def computeCost(X, y, theta):
    h = X @ theta
    return np.sum((h - y) ** 2) / (2 * m)


def gradientDescent(X, y, theta, alpha, num_iters):
    J_history = []
    for i in range(num_iters):
        h = np.dot(X, theta)
        theta = theta - alpha * (1 / m) * X.T @ (h - y)
        J_history.append(computeCost(X, y, theta))
    return theta, J_history


theta, J = gradientDescent(X, y, np.zeros(3), 0.1, 100)
print(J[-1])
'''


def test_the_weights_and_the_bias_kept_in_one_array_are_each_compared(tmp_path):
    report = check(write(tmp_path, "adaline.py", ADALINE))
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"self.w_[1:]", "self.w_[0]"}


def test_a_flipped_error_term_makes_both_parts_climb(tmp_path):
    path = planted(tmp_path, "adaline.py", ADALINE, "errors = y - output", "errors = output - y")
    found = errors(check(path))
    assert {(f["param"], f["line"]) for f in found} == {
        ("self.w_[1:]", line_of(path, "self.w_[1:] += ")), ("self.w_[0]", line_of(path, "self.w_[0] += "))
    }


def test_the_coursera_descent_with_its_hypothesis_h_is_compared(tmp_path):
    report = check(write(tmp_path, "ex1.py", GRADIENT_DESCENT))
    assert errors(report) == []
    step = replayed(report)
    assert [p["name"] for p in step["parameters"]] == ["theta"]
    assert step["loss"] == "computeCost"


def test_its_flipped_step_is_named_at_the_update_that_writes_it_out(tmp_path):
    path = planted(tmp_path, "ex1.py", GRADIENT_DESCENT, "X.T @ (h - y)", "X.T @ (y - h)")
    (finding,) = errors(check(path))
    assert (finding["param"], finding["line"]) == ("theta", line_of(path, "theta = theta - alpha"))
    assert "with its sign flipped" in finding["message"]
    assert "computed at line" not in finding["message"]
