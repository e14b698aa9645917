"""A number written beside a named learning rate in an inline update (`W -= lr * (X.T @ e) * 2 / n`,
`self.w -= 2 * self.lr * X.T @ err / n`) is the gradient's, not the rate's: the 2 is the derivative of
the mean squared error's square. The replay reads `lr` as the rate and `(X.T @ e) * 2 / n` as the
gradient, so the correct scripts are clean, and a wrong factor (4 where 2 belongs, or the 2 left out
of one update) is still an error at that update's line. A number with no named rate beside it
(`0.1 * g`) stays the rate. Two styles: a flat script, and a class whose `fit` steps its own weights."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

FLAT = '''\
import numpy as np

rng = np.random.default_rng(0)
n = 100
X = rng.normal(size=(n, 3))
y = X @ np.array([[2.0], [-1.0], [0.5]]) + 0.1 * rng.normal(size=(n, 1))
W = np.zeros((3, 1))
b = 0.0
lr = 0.05
for epoch in range(200):
    pred = X @ W + b
    e = pred - y
    loss = np.mean(e ** 2)
    W -= lr * (X.T @ e) * 2 / n
    b -= lr * np.sum(e) * 2 / n
    if epoch % 50 == 0:
        print(epoch, loss)
'''

CLASS = '''\
import numpy as np


class LinearRegression:
    def __init__(self, lr=0.02, epochs=150):
        self.lr = lr
        self.epochs = epochs

    def fit(self, X, y):
        n, d = X.shape
        self.w = np.zeros(d)
        self.bias = 0.0
        for _ in range(self.epochs):
            err = X @ self.w + self.bias - y
            cost = (err ** 2).mean()
            self.w -= 2 * self.lr * X.T @ err / n
            self.bias -= 2 * self.lr * err.sum() / n
        return self


rng = np.random.default_rng(5)
X = rng.normal(size=(80, 4))
y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 1.0
model = LinearRegression().fit(X, y)
print(model.w, model.bias)
'''


def test_flat_mean_squared_error_with_its_factor_two_after_the_gradient_is_clean(tmp_path):
    report = check(write(tmp_path, "regression.py", FLAT))
    assert errors(report) == [] and [f for f in report["findings"] if f["severity"] == "warning"] == [], report["findings"]
    assert step_verdicts(report) == {"W": "ok", "b": "ok"}


def test_flat_factor_four_is_an_error_at_its_update(tmp_path):
    path = planted(tmp_path, "regression.py", FLAT, "(X.T @ e) * 2 / n", "(X.T @ e) * 4 / n")
    report = check(path)
    (finding,) = errors(report)
    assert finding["name"] == "step-gradient-mismatch" and finding["line"] == line_of(path, "W -= lr"), finding
    assert "2 × the gradient" in finding["message"], finding["message"]
    assert step_verdicts(report) == {"W": "mismatch", "b": "ok"}


def test_flat_factor_two_left_out_of_one_update_is_an_error(tmp_path):
    path = planted(tmp_path, "regression.py", FLAT, "(X.T @ e) * 2 / n", "(X.T @ e) / n")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "W -= lr"), finding
    assert "0.5 × the gradient" in finding["message"], finding["message"]


def test_class_with_the_factor_two_before_its_rate_is_clean(tmp_path):
    report = check(write(tmp_path, "model.py", CLASS))
    assert errors(report) == [] and [f for f in report["findings"] if f["severity"] == "warning"] == [], report["findings"]
    assert set(step_verdicts(report).values()) == {"ok"} and len(step_verdicts(report)) == 2


def test_class_factor_two_left_out_of_the_weights_is_an_error_there(tmp_path):
    path = planted(tmp_path, "model.py", CLASS, "self.w -= 2 * self.lr * X.T", "self.w -= self.lr * X.T")
    report = check(path)
    (finding,) = errors(report)
    assert finding["line"] == line_of(path, "self.w -= self.lr"), finding
    assert "0.5 × the gradient" in finding["message"], finding["message"]
