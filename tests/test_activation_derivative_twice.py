"""A sigmoid output with a cross-entropy loss: `p - y` is already the gradient with respect to the
sigmoid's input. Multiplying it by the sigmoid's derivative again (`(p - y) * p * (1 - p)`, the
squared error's formula) is named with the factor to remove; under a squared error the same line is
right and gets no finding."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(40, 3)
y = (X[:, :1] - X[:, 1:2] > 0).astype(float)
W = np.random.randn(3, 1) * 0.1
b = np.zeros(1)
lr = 1.0
for it in range(200):
    p = 1 / (1 + np.exp(-(X @ W + b)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz = (p - y) / len(X)
    W -= lr * X.T @ dz
    b -= lr * dz.sum(0)
'''

TWICE = "dz = (p - y) * p * (1 - p) / len(X)"


def test_the_cross_entropys_gradient_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "logreg.py", SCRIPT))) == []


def test_the_sigmoids_derivative_applied_again_is_named_with_its_factor(tmp_path):
    path = planted(tmp_path, "logreg.py", SCRIPT, "dz = (p - y) / len(X)", TWICE)
    (finding,) = errors(check(path))
    assert (finding["param"], finding["line"], finding["pattern"]) == ("dz", line_of(path, TWICE), "extra-activation-derivative")
    assert finding["message"].endswith("remove the factor `p * (1 - p)`")


def test_the_same_line_under_a_squared_error_is_right(tmp_path):
    source = SCRIPT.replace("loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))", "loss = np.sum((p - y) ** 2) / (2 * len(X))")
    path = planted(tmp_path, "logreg.py", source, "dz = (p - y) / len(X)", TWICE)
    assert errors(check(path)) == []
