"""A binary cross-entropy trained on targets that are not 0 and 1 (a course's test case hands
`Y = np.random.randn(1, 3)`; labels of -1 and +1): with targets outside [0, 1] the loss has no
minimum, falls below 0 and on to -inf. Named at the targets, not as a `log` missing its guard.
A sigmoid written out inline (`1 / (1 + np.exp(-Z2))`) is read as one.

Two styles: Ng-style column-major script with the sigmoid written out, and a loop over a `sigmoid`
helper and a gradient function, with labels of -1 and +1. (Left out: a loss computed inside a step
function the loop calls, `w, b, loss = step(...)`, whose output the replay does not see.) The twins train on labels of 0 and 1 and are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(2, 30)
Y = (X[0:1] * X[1:2] > 0).astype(float)
W1, b1 = np.random.randn(4, 2) * 0.5, np.zeros((4, 1))
W2, b2 = np.random.randn(1, 4) * 0.5, np.zeros((1, 1))
m = X.shape[1]
for i in range(3000):
    A1 = np.tanh(W1 @ X + b1)
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
    cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1 ** 2)
    W1 -= 1.2 * dZ1 @ X.T / m
    b1 -= 1.2 * np.sum(dZ1, axis=1, keepdims=True) / m
    W2 -= 1.2 * dW2
    b2 -= 1.2 * db2
    if i % 500 == 0:
        print(i, cost)
'''

FUNCTIONS = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradients(X, y, p):
    d = (p - y) / len(y)
    return X.T @ d, d.sum()


rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3))
labels = (X @ np.array([1.0, -1.0, 0.5]) > 0).astype(float)
y = labels
w, b = np.zeros(3), 0.0
for epoch in range(300):
    p = sigmoid(X @ w + b)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dw, db = gradients(X, y, p)
    w -= 0.5 * dw
    b -= 0.5 * db
    if epoch % 50 == 0:
        print(epoch, loss)
'''


@pytest.mark.parametrize(
    "text, correct, wrong",
    [
        (SCRIPT, "Y = (X[0:1] * X[1:2] > 0).astype(float)", "Y = np.random.randn(1, 30)"),
        (FUNCTIONS, "y = labels\n", "y = 2 * labels - 1\n"),
    ],
    ids=["script", "functions"],
)
def test_targets_outside_0_1_under_a_cross_entropy_are_named(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "bce.py", text, correct, wrong)
    report = check(path, training=True)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"]) == ("BPD618", line_of(path, wrong.strip()))
    assert "has no minimum" in root["message"] and "labels of 0 and 1" in root["message"]
    assert not [f for f in errors(report) if f["code"] == "BPD610"]


@pytest.mark.parametrize("text", [SCRIPT, FUNCTIONS], ids=["script", "functions"])
def test_labels_of_0_and_1_are_clean(tmp_path, text):
    path = planted(tmp_path, "bce.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path, training=True)) == []
