"""A first layer whose backward returns its parameters' gradients and no input gradient
(`return dW, db`): the returned arrays are the gradients of `self.W` and `self.b`, named so, not an
input gradient of the wrong shape (a correct layer was reported "the gradient of `x` has shape (3, 1)")."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        dW = self.x.T @ dy
        db = dy.sum(axis=0)
        return dW, db


np.random.seed(0)
X = np.random.randn(32, 3)
Y = X @ np.array([[1.0], [-2.0], [0.5]])
model = Linear(3, 1)
for step in range(100):
    pred = model.forward(X)
    loss = 0.5 * np.mean((pred - Y) ** 2)
    dW, db = model.backward((pred - Y) / len(X))
    model.W -= 0.1 * dW
    model.b -= 0.1 * db
'''

RIGHT = "db = dy.sum(axis=0)"


def verdicts(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "Linear"}


def test_the_returned_gradients_are_checked_as_the_parameters_and_no_dx_is_asked_for(tmp_path):
    report = check(planted(tmp_path, "linear.py", PROGRAM, RIGHT, RIGHT))
    assert report["findings"] == []
    assert verdicts(report) == {"W": "ok", "b": "ok"}


def test_a_wrong_returned_bias_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "linear.py", PROGRAM, RIGHT, "db = dy.mean(axis=0)")
    report = check(path)
    assert verdicts(report) == {"W": "ok", "b": "mismatch"}
    assert any(f["param"] == "b" and f["line"] == line_of(path, "db = dy.mean(axis=0)") for f in errors(report))
