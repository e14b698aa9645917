"""A model class with a cost method and its derivative beside it (`costFunction(X, y)` and
`costFunctionPrime(X, y)` returning `dJdW1, dJdW2`), trained by no update statement of the file: the
pair is checked as one loss and its gradients, each gradient given to the weight of its shape in the
order the object holds them.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Net(object):
    def __init__(self):
        self.W1 = np.random.randn(3, 5)
        self.W2 = np.random.randn(5, 2)

    def forward(self, X):
        self.z2 = X @ self.W1
        self.a2 = np.tanh(self.z2)
        self.z3 = self.a2 @ self.W2
        return 1 / (1 + np.exp(-self.z3))

    def {cost}(self, X, y):
        self.yHat = self.forward(X)
        return 0.5 * np.sum((y - self.yHat) ** 2) / X.shape[0]

    def {prime}(self, X, y):
        self.yHat = self.forward(X)
        delta3 = -(y - self.yHat) * self.yHat * (1 - self.yHat) / X.shape[0]
        dJdW2 = self.a2.T @ delta3
        delta2 = (delta3 @ self.W2.T) * (1 - self.a2 ** 2)
        dJdW1 = X.T @ delta2
        return dJdW1, dJdW2
'''

RIGHT = "        dJdW2 = self.a2.T @ delta3\n"
WRONG = "        dJdW2 = self.a2.T @ delta3 * 2\n"
NAMES = [("costFunction", "costFunctionPrime"), ("cost_function", "cost_function_prime"), ("loss", "loss_grad")]


@pytest.mark.parametrize(("cost", "prime"), NAMES)
def test_a_wrong_gradient_is_named_at_its_line(tmp_path, cost, prime):
    path = planted(tmp_path, "net.py", PROGRAM.replace("{cost}", cost).replace("{prime}", prime), RIGHT, WRONG)
    report = check(path)
    (error,) = errors(report)
    assert error["code"] == "BPD101"
    assert error["line"] == line_of(path, "dJdW2 = self.a2.T @ delta3 * 2")
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"]}
    assert verdicts["W1"] == "ok"


@pytest.mark.parametrize(("cost", "prime"), NAMES)
def test_the_correct_pair_is_checked_and_clean(tmp_path, cost, prime):
    report = check(planted(tmp_path, "net.py", PROGRAM.replace("{cost}", cost).replace("{prime}", prime), RIGHT, RIGHT))
    assert errors(report) == []
    assert {m["param"]: m["verdict"] for m in report["measurements"]} == {"W1": "ok", "W2": "ok"}


def test_a_derivative_that_is_not_one_gradient_per_weight_is_not_checked(tmp_path):
    program = PROGRAM.replace("{cost}", "costFunction").replace("{prime}", "costFunctionPrime")
    path = planted(tmp_path, "net.py", program, "        return dJdW1, dJdW2\n", "        return np.concatenate((dJdW1.ravel(), dJdW2.ravel()))\n")
    report = check(path)
    assert errors(report) == []
    assert report["measurements"] == []
