"""Logistic regression with a weight vector and a bias of one number, both moved by gradients of the
summed loss while the loss the loop prints is the mean: `w -= lr * X.T @ (p - y)`, `b -= lr * (p - y).sum()`.

A one-number bias has a single factor and no direction to be proportional along; it shares the
batch factor of the weights, so the factor is the program's scale (a warning while the loss falls),
not two gradient errors.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted

SCRIPT = '''\
import numpy as np

np.random.seed(3)
N, D = 200, 4
X = np.random.randn(N, D)
y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 > 0).astype(float)
w = np.zeros(D)
b = 0.0
lr = 0.001
costs = []
for i in range(300):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    cost = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
    costs.append(cost)
    w -= lr * X.T @ (p - y)
    b -= lr * (p - y).sum()
'''


def test_a_scalar_bias_at_the_weights_batch_factor_is_the_scale_not_an_error(tmp_path):
    path = planted(tmp_path, "logistic.py", SCRIPT, "lr = 0.001", "lr = 0.001")
    report = check(path, training=True)
    assert errors(report) == []
    (warning,) = [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]
    assert warning["severity"] == "warning"
    assert "(`w`, `b`, line" in warning["message"] and "200 × the gradient of your loss (200 is the batch size)" in warning["message"]


def test_weights_at_the_batch_factor_beside_a_bias_at_the_mean_are_an_error(tmp_path):
    """Only the weights carry the factor: no scale is shared, so their gradient is wrong against the bias's."""
    path = planted(tmp_path, "logistic.py", SCRIPT, "b -= lr * (p - y).sum()", "b -= lr * (p - y).sum() / N")
    report = check(path, training=True)
    (found,) = errors(report)
    assert (found["name"], found["param"]) == ("step-gradient-mismatch", "w")
    assert "200 × the gradient of your loss" in found["message"]


ACCUMULATED = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(100, 3)
y = X @ np.array([[2.0], [-1.0], [0.5]]) + 0.3
W = np.zeros((3, 1))
b = np.zeros((1, 1))
lr = 0.1
dW = np.zeros_like(W)
db = np.zeros_like(b)
for epoch in range(200):
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    for start in range(0, 100, 20):
        xb, yb = X[start:start + 20], y[start:start + 20]
        err = xb @ W + b - yb
        dW += xb.T @ err / 100
        db += err.sum(axis=0, keepdims=True) / 100
    loss = np.mean((X @ W + b - y) ** 2) / 2
    W -= lr * dW
    b -= lr * db
'''


def test_gradients_summed_over_steps_beside_a_one_number_bias_are_no_scale(tmp_path):
    """Zeroed once before the loop, `dW` and `db` sum every step's gradient: the factor they are off by
    grows, it is named as the sum, not taken for a learning-rate scale because `b` has one entry."""
    reset = "    dW = np.zeros_like(W)\n    db = np.zeros_like(b)\n    for start"
    assert errors(check(planted(tmp_path / "right", "accumulate.py", ACCUMULATED, reset, reset))) == []
    path = planted(tmp_path / "wrong", "accumulate.py", ACCUMULATED, reset, "    for start")
    found = errors(check(path))
    assert found and all(f["name"] == "step-gradient-mismatch" and f["pattern"] == "accumulated-across-steps" for f in found)
    assert "set `dW = np.zeros_like(W)` at the start of each step" in found[0]["message"]
