"""A loss method that returns more than the loss (`return value, residual`, cs231n's `loss, grads`)
gives the replay its first element: a class trained by its own `fit` is checked, not "nothing to
check"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

MODEL = '''\
import numpy as np


class Ridge:
    def __init__(self, n, lam=0.1, lr=0.05):
        self.coef = np.random.RandomState(1).randn(n) * 0.3
        self.bias = 0.0
        self.lam, self.lr = lam, lr

    def cost(self, X, y):
        residual = X @ self.coef + self.bias - y
        return np.mean(residual ** 2) + self.lam * np.sum(self.coef ** 2), residual

    def grads(self, X, y):
        _, residual = self.cost(X, y)
        dcoef = 2 * X.T @ residual / len(y) + 2 * self.lam * self.coef
        dbias = 2 * residual.mean()
        return dcoef, dbias

    def fit(self, X, y, epochs=300):
        for epoch in range(epochs):
            dcoef, dbias = self.grads(X, y)
            self.coef -= self.lr * dcoef
            self.bias -= self.lr * dbias
            if epoch % 100 == 0:
                print(epoch, self.cost(X, y)[0])
        return self


rng = np.random.RandomState(8)
X = rng.randn(150, 6)
y = X @ np.array([1.0, -2.0, 0.0, 0.5, 0.0, 3.0]) + 0.1 * rng.randn(150)
model = Ridge(6).fit(X, y)
'''


def test_a_class_whose_cost_returns_a_pair_is_checked(tmp_path):
    report = check(write(tmp_path, "ridge.py", MODEL))
    assert errors(report) == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"self.coef": False, "self.bias": False}


def test_its_wrong_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "ridge.py", MODEL, "+ 2 * self.lam * self.coef", "+ self.lam * self.coef")
    (finding,) = errors(check(path))
    assert (finding["name"], finding["param"]) == ("step-gradient-mismatch", "self.coef")
    assert finding["line"] == line_of(path, "dcoef = 2 * X.T")
