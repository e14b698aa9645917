"""A gradient function called inside the update statement, its loss only printed or kept in a history.

`w -= lr * gradient(w, X, y)` with `loss(w, X, y)` computed under an `if` for printing (or appended to a
list) was "nothing was checked": the pass has no statement before its update, so the loop did not read
as a training step. A call of one of the file's own functions handed the parameter the update moves is
now the pass's gradient, and a loss function handed the very arguments the gradient function is handed
(or a cost only the program's end prints, `J = lambda w, b: ...` beside `grad(w, b)`) is the pair's
loss: its own scale counts (a missing `2` or `/ len(y)` is wrong, not a rate of the program's), and a
wrong gradient is named where the gradient function returns it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from userfiles import check, errors, line_of, planted, write

LINEAR = """
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=100)


def loss(w, X, y):
    return np.mean((X @ w - y) ** 2)


def gradient(w, X, y):
    return 2 * X.T @ (X @ w - y) / len(y)


w = np.zeros(3)
lr = 0.1
for it in range(200):
    w -= lr * gradient(w, X, y)
    if it % 50 == 0:
        print(it, loss(w, X, y))
"""

LINEAR_SQUARE = LINEAR.replace("size=(100, 3)", "size=(3, 3)").replace("size=100)", "size=3)")

LOGISTIC = """
import numpy as np

rng = np.random.default_rng(3)
X = np.hstack([np.ones((80, 1)), rng.normal(size=(80, 2))])
y = (X[:, 1] - 0.5 * X[:, 2] > 0).astype(float)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def compute_cost(theta, X, y):
    h = sigmoid(X @ theta)
    return -np.mean(y * np.log(h) + (1 - y) * np.log(1 - h))


def compute_gradient(theta, X, y):
    m = len(y)
    h = sigmoid(X @ theta)
    return X.T @ (h - y) / m


theta = np.zeros(3)
alpha = 0.5
cost_history = []
for i in range(400):
    theta = theta - alpha * compute_gradient(theta, X, y)
    cost_history.append(compute_cost(theta, X, y))
print(cost_history[-1])
"""

UNPACKED_WITH_A_LAMBDA_COST = """
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(50, 2))
y = X @ np.array([0.7, -1.2]) + 0.3

J = lambda w, b: np.mean((X @ w + b - y) ** 2) / 2


def grad(w, b):
    r = X @ w + b - y
    return X.T @ r / len(y), r.mean()


w, b = np.zeros(2), 0.0
lr = 0.1
for step in range(500):
    gw, gb = grad(w, b)
    w = w - lr * gw
    b = b - lr * gb
print("final", J(w, b))
"""

MLP = """
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(64, 4))
y = np.sin(X[:, :1]) + 0.1 * rng.normal(size=(64, 1))


def mse(W1, W2, X, y):
    h = np.tanh(X @ W1)
    return np.mean((h @ W2 - y) ** 2)


def grads(W1, W2, X, y):
    n = len(y)
    h = np.tanh(X @ W1)
    err = h @ W2 - y
    dout = 2 * err / n
    dW2 = h.T @ dout
    dh = dout @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    return dW1, dW2


W1 = 0.5 * rng.normal(size=(4, 8))
W2 = 0.5 * rng.normal(size=(8, 1))
lr = 0.05
for epoch in range(300):
    W1, W2 = W1 - lr * grads(W1, W2, X, y)[0], W2 - lr * grads(W1, W2, X, y)[1]
    if epoch % 100 == 0:
        print(epoch, mse(W1, W2, X, y))
"""


@pytest.mark.parametrize(
    "text", [LINEAR, LINEAR_SQUARE, LOGISTIC, UNPACKED_WITH_A_LAMBDA_COST, MLP], ids=["linear", "linear-square", "logistic", "lambda-cost", "mlp"]
)
def test_correct_gradient_function_is_clean(tmp_path: Path, text: str) -> None:
    report = check(write(tmp_path, "train.py", text))
    assert not report["findings"], report["findings"]
    assert any(m["layer"] == "training step" and m["verdict"] == "ok" for m in report["measurements"])


@pytest.mark.parametrize(
    ("text", "correct", "wrong"),
    [
        (LINEAR, "return 2 * X.T @ (X @ w - y) / len(y)", "return X.T @ (X @ w - y) / len(y)"),
        (LINEAR, "return 2 * X.T @ (X @ w - y) / len(y)", "return 2 * X.T @ (X @ w - y)"),
        (LINEAR_SQUARE, "return 2 * X.T @ (X @ w - y) / len(y)", "return 2 * X @ (X @ w - y) / len(y)"),
        (LOGISTIC, "return X.T @ (h - y) / m", "return X.T @ (y - h) / m"),
        # 80 times the step: the cost is NaN from the second pass on, the first is judged
        (LOGISTIC, "return X.T @ (h - y) / m", "return X.T @ (h - y)"),
        (UNPACKED_WITH_A_LAMBDA_COST, "return X.T @ r / len(y), r.mean()", "return X.T @ r, r.mean()"),
    ],
    ids=["missing-2", "missing-mean", "X-for-X.T", "sign", "logistic-missing-mean", "lambda-cost-missing-mean"],
)
def test_wrong_gradient_is_named_inside_the_gradient_function(tmp_path: Path, text: str, correct: str, wrong: str) -> None:
    path = planted(tmp_path, "train.py", text, correct, wrong)
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, wrong)], found
    assert found[0]["name"] == "step-gradient-mismatch"


def test_wrong_hidden_derivative_of_a_tuple_gradient_is_named(tmp_path: Path) -> None:
    # `grads` runs twice in the update statement, so its locals have no one value: the blame is at `dW1`'s line or at `dh`'s
    path = planted(tmp_path, "train.py", MLP, "dh = dout @ W2.T * (1 - h ** 2)", "dh = dout @ W2.T * (1 - h)")
    found = errors(check(path))
    assert found, "the wrong hidden-layer derivative went unnoticed"
    assert {f["line"] for f in found} <= {line_of(path, "dh = dout @ W2.T"), line_of(path, "dW1 = X.T @ dh")}, found
    assert all(f["param"] == "W1" for f in found), found
