"""A weight penalty written as a class, `__call__(w)` returning one number and `grad(w)` its
gradient (the regularisers of a from-scratch regression library), is checked as a function and its
gradient: a penalty whose value is the Euclidean norm while its gradient is `sign(w)` (the gradient
of the sum of absolute values) is reported at the gradient's line; correct penalties are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PENALTIES = """\
import numpy as np


class Lasso:
    def __init__(self, alpha):
        self.alpha = alpha

    def __call__(self, w):
        return self.alpha * np.abs(w).sum()

    def grad(self, w):
        return self.alpha * np.sign(w)


class Ridge:
    def __init__(self, alpha):
        self.alpha = alpha

    def __call__(self, w):
        return self.alpha * 0.5 * w.dot(w)

    def grad(self, w):
        return self.alpha * w


class LinearModel:
    def __init__(self, penalty, rate=0.01):
        self.penalty, self.rate = penalty, rate

    def fit(self, X, y, steps=100):
        self.w = np.zeros(X.shape[1])
        for _ in range(steps):
            residual = X.dot(self.w) - y
            self.w -= self.rate * (X.T.dot(residual) + self.penalty.grad(self.w))
        return self
"""


def test_penalties_with_their_gradients_are_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "penalties.py", PENALTIES))
    assert errors(report) == []
    assert [(b["what"], b["shapes"]) for b in report["built"]] == [
        ("Lasso", "w (6,), a number and its gradient"),
        ("Ridge", "w (6,), a number and its gradient"),
    ]


def test_a_norm_whose_gradient_is_the_sign_is_reported_at_the_gradient(tmp_path):
    path = planted(tmp_path, "penalties.py", PENALTIES, "return self.alpha * np.abs(w).sum()", "return self.alpha * np.linalg.norm(w)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["layer"], finding["line"]) == ("BPD101", "Lasso", line_of(path, "return self.alpha * np.sign(w)"))
    # either may be the wrong one: the finding names both, and does not tell the user to re-derive the gradient
    assert f"`Lasso.grad` is not the derivative of `Lasso.__call__` (line {line_of(path, 'def __call__(self, w):')})" in finding["message"]
    assert "one of the two is wrong" in finding["message"] and "re-derive" not in finding["message"]
