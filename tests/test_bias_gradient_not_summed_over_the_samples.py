"""A bias gradient not summed over the samples (`db1 = dz1 / m` where `np.sum(dz1, axis=1, keepdims=True) / m`
belongs): the first update broadcasts the (H, 1) bias up to (H, m), one value per sample, and from then
on it is judged as an array of that shape, which its gradient then fits. The replay judges the step
before that update, and names the shapes and the sum."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

COLUMNS = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(4, 60)
Y = (X[0:1] - X[1:2] > 0).astype(float)
W1 = np.random.randn(6, 4) * 0.5
b1 = np.zeros((6, 1))
W2 = np.random.randn(1, 6) * 0.5
b2 = np.zeros((1, 1))
m = X.shape[1]
for i in range(300):
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    W1 = W1 - 0.5 * dW1
    b1 = b1 - 0.5 * db1
    W2 = W2 - 0.5 * dW2
    b2 = b2 - 0.5 * db2
'''

RIGHT = "db1 = np.sum(dZ1, axis=1, keepdims=True) / m"


def test_the_summed_bias_gradient_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "planar.py", COLUMNS, RIGHT, RIGHT))) == []


@pytest.mark.parametrize("wrong", ["db1 = dZ1 / m", "db1 = np.sum(dZ1, axis=0, keepdims=True) / m"])
def test_a_bias_gradient_that_is_not_the_parameters_shape_is_found_at_its_line(tmp_path, wrong):
    path = planted(tmp_path, "planar.py", COLUMNS, RIGHT, wrong)
    found = errors(check(path))
    assert [(f["param"], f["line"]) for f in found] == [("b1", line_of(path, wrong))]
    if wrong == "db1 = dZ1 / m":
        assert found[0]["pattern"] == "widened-gradient"
        assert "of shape (6, 60), where the parameter has shape (6, 1), so the first update turns it into an array of shape (6, 60)" in found[0]["message"]
        assert found[0]["message"].endswith("sum the gradient over the samples (`np.sum(..., axis=1, keepdims=True)`) so it has the parameter's shape")
