"""When the program's first update already makes its loss larger, that update is the step to judge:
the replay's second pass would start from weights one bad step threw far out (saturated sigmoids whose
log is clipped, ReLUs overflowing), where the gradients cannot be told right from wrong and the
report blamed the wrong line or called a too-large learning rate an overflow."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

REGRESSION = '''\
import numpy as np

# two-layer regression net trained with plain gradient descent
np.random.seed(0)
X = np.random.randn(200, 3)
y = (X[:, :1] ** 2 + X[:, 1:2]) * 0.5

W1 = np.random.randn(3, 20) * 0.5
b1 = np.zeros(20)
W2 = np.random.randn(20, 1) * 0.5
b2 = np.zeros(1)
learning_rate = 0.05

for step in range(300):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    pred = a1 @ W2 + b2
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(X)
    dW2 = a1.T @ dpred
    db2 = dpred.sum(axis=0)
    da1 = dpred @ W2.T
    dz1 = da1 * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    W1 -= learning_rate * dW1
    b1 -= learning_rate * db1
    W2 -= learning_rate * dW2
    b2 -= learning_rate * db2
    if step % 50 == 0:
        print(step, loss)
'''

LOGISTIC = '''\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def train(X, y, lr=0.5, epochs=300):
    m, n = X.shape
    w = np.zeros(n)
    b = 0.0
    for epoch in range(epochs):
        p = sigmoid(X @ w + b)
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        dw = X.T @ (p - y) / m
        db = np.mean(p - y)
        w -= lr * dw
        b -= lr * db
        if epoch % 50 == 0:
            print(f"epoch {epoch}: loss {loss:.4f}")
    return w, b


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5)) * 3
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) > 0).astype(float)
    train(X, y)
'''


def test_a_learning_rate_that_blows_up_the_first_step_is_named_at_its_line(tmp_path):
    assert errors(check(planted(tmp_path / "ok", "reg.py", REGRESSION, "learning_rate = 0.05", "learning_rate = 0.05"), training=True)) == []
    path = planted(tmp_path / "high", "reg.py", REGRESSION, "learning_rate = 0.05", "learning_rate = 5.0")
    report = check(path, training=True)
    (found,) = errors(report)
    assert (found["code"], found["line"]) == ("BPD608", line_of(path, "learning_rate = 5.0"))
    assert "although every gradient it computes is right" in found["message"]


def test_a_weight_gradient_summed_where_the_bias_is_averaged_is_blamed_on_the_weights(tmp_path):
    right = "dw = X.T @ (p - y) / m"
    assert right in LOGISTIC
    path = planted(tmp_path, "logreg.py", LOGISTIC, right, "dw = X.T @ (p - y)")
    (found,) = errors(check(path))
    assert (found["param"], found["line"]) == ("w", line_of(path, "dw = X.T @ (p - y)"))
    assert "500 × the gradient of your loss (500 is the batch size)" in found["message"]
