"""A program whose printed cost lacks its minus sign: the gradients and the descent are right, so
the cost (a log-likelihood) rises while the network learns. The finding sits where the cost is
computed, inside the function the loop calls, and only where the program descends."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

LOGISTIC = """\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class LogisticRegression:
    def _cost(self, A, Y):
        m = A.shape[1]
        cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
        return cost

    def fit(self, X, Y, iterations=100, learning_rate=0.1):
        self.w = np.zeros((X.shape[0], 1))
        self.b = 0.0
        for i in range(iterations):
            A = sigmoid(np.dot(self.w.T, X) + self.b)
            cost = self._cost(A, Y)
            dw = np.dot(X, (A - Y).T) / X.shape[1]
            db = np.sum(A - Y) / X.shape[1]
            self.w -= learning_rate * dw
            self.b -= learning_rate * db
            if i % 10 == 0:
                print(cost)
        return self


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    Y = (X[:1] + X[1:2] > 0).astype(float)
    LogisticRegression().fit(X, Y)
"""

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(1)
X = rng.standard_normal((2, 60))
Y = (X[:1] * X[1:] > 0).astype(float)


def compute_cost(A2, Y):
    return -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / Y.shape[1]


W1, b1 = rng.standard_normal((4, 2)) * 0.5, np.zeros((4, 1))
W2, b2 = rng.standard_normal((1, 4)) * 0.5, np.zeros((1, 1))
for i in range(200):
    A1 = np.tanh(W1 @ X + b1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    cost = compute_cost(A2, Y)
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / 60
    db2 = dZ2.sum(axis=1, keepdims=True) / 60
    dZ1 = W2.T @ dZ2 * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / 60
    db1 = dZ1.sum(axis=1, keepdims=True) / 60
    W1 = W1 - 0.5 * dW1
    b1 = b1 - 0.5 * db1
    W2 = W2 - 0.5 * dW2
    b2 = b2 - 0.5 * db2
    if i % 50 == 0:
        print(i, cost)
"""


def test_a_correct_logistic_regression_has_no_error(tmp_path):
    report = check(write(tmp_path, "logistic.py", LOGISTIC))
    assert errors(report) == []
    assert replayed(report)["maximised"] is False


def test_a_cost_without_its_minus_sign_is_found_where_the_method_computes_it(tmp_path):
    path = planted(tmp_path, "logistic.py", LOGISTIC, "cost = -np.sum(", "cost = np.sum(")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["name"], finding["line"], finding["param"]) == ("loss-sign-flipped", line_of(path, "cost = np.sum("), "cost")
    assert f"read at line {line_of(path, 'cost = self._cost(A, Y)')}" in finding["message"]
    assert finding["measured"] < 0  # the cost as the program computes it, below zero
    assert "put a minus sign in front of it" in finding["message"]


def test_a_returned_cost_without_its_minus_sign_is_found_at_the_return(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "return -np.sum(", "return np.sum(")
    (finding,) = errors(check(path))
    assert (finding["name"], finding["line"]) == ("loss-sign-flipped", line_of(path, "return np.sum("))
    assert f"the first at line {line_of(path, 'W1 = W1 - 0.5 * dW1')}" in finding["message"]


def test_the_correct_script_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "script.py", SCRIPT))) == []


def test_a_log_likelihood_the_program_climbs_on_purpose_is_not_reported(tmp_path):
    ascent = (
        LOGISTIC.replace("cost = -np.sum(", "cost = np.sum(")
        .replace("(A - Y)", "(Y - A)")  # the gradients of the log-likelihood
        .replace("-= learning_rate * d", "+= learning_rate * d")  # climbed
    )
    report = check(write(tmp_path, "ascent.py", ascent))
    assert replayed(report)["maximised"] is True
    assert errors(report) == []


def test_a_value_named_as_a_likelihood_is_not_called_a_loss(tmp_path):
    named = planted(tmp_path, "logistic.py", LOGISTIC, "cost = -np.sum(", "cost = np.sum(")
    text = named.read_text(encoding="utf-8").replace("cost", "log_likelihood")
    report = check(write(tmp_path, "likelihood.py", text))
    assert replayed(report)["maximised"] is True
    assert [f for f in report["findings"] if f["name"] == "loss-sign-flipped"] == []
