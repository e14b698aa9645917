"""symmetric-init names the statement that makes the equal weights, however it is written.

Weights made by one statement for both (`W1, W2 = np.full(...), np.full(...)`), as a number times an
array of ones (`self.W1, self.W2 = 0.5 * np.ones(...), ...`) or filled after they are made
(`W1.fill(0.3)`) were named at the training loop, or at a statement that had not made them equal
yet (`np.empty`). The finding is at the line that makes them so; where no such line can be read
(the weights come from a function of the user's, `W_in, W_out = make()`) at the statement that
unpacks them (it was the first binding of another name, a bias `b_in` read as a weight matrix).
Random twins of each program stay clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(7)
n, H = 240, 12
X = rng.normal(size=(n, 2))
y = ((X ** 2).sum(axis=1) < 1.2).astype(float).reshape(-1, 1)

W_in, W_out = np.full((2, H), 0.3), np.full((H, 1), 0.3)
b_in = np.zeros((1, H))
b_out = np.zeros((1, 1))
alpha = 1.0


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


for it in range(400):
    a = sig(X @ W_in + b_in)
    p = sig(a @ W_out + b_out)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    g_out = (p - y) / n
    gW_out = a.T @ g_out
    gb_out = g_out.sum(axis=0, keepdims=True)
    g_a = g_out @ W_out.T * a * (1 - a)
    gW_in = X.T @ g_a
    gb_in = g_a.sum(axis=0, keepdims=True)
    W_in -= alpha * gW_in
    b_in -= alpha * gb_in
    W_out -= alpha * gW_out
    b_out -= alpha * gb_out
    if it % 100 == 0:
        print(it, loss)
'''

SCRIPT_RANDOM = "W_in, W_out = rng.normal(size=(2, H)) * 0.5, rng.normal(size=(H, 1)) * 0.5"

CLASS = '''\
import numpy as np


class TwoLayerRegressor:
    def __init__(self, n_in, n_hidden, lr=0.05):
        self.lr = lr
        self.W1, self.W2 = 0.5 * np.ones((n_in, n_hidden)), 0.5 * np.ones((n_hidden, 1))
        self.b1 = np.zeros(n_hidden)
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.z1 = X @ self.W1 + self.b1
        self.a1 = np.maximum(0.1 * self.z1, self.z1)
        return self.a1 @ self.W2 + self.b2

    def backward(self, out, y):
        n = len(y)
        d_out = 2 * (out - y) / n
        dW2 = self.a1.T @ d_out
        db2 = d_out.sum(axis=0)
        d_z1 = d_out @ self.W2.T * np.where(self.z1 > 0, 1.0, 0.1)
        dW1 = self.X.T @ d_z1
        db1 = d_z1.sum(axis=0)
        self.W1 -= self.lr * dW1
        self.b1 -= self.lr * db1
        self.W2 -= self.lr * dW2
        self.b2 -= self.lr * db2


rng = np.random.default_rng(3)
X = rng.uniform(-2, 2, size=(256, 3))
y = (np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]).reshape(-1, 1)
net = TwoLayerRegressor(3, 10)
for step in range(500):
    out = net.forward(X)
    loss = np.mean((out - y) ** 2)
    net.backward(out, y)
    if step % 100 == 0:
        print(step, loss)
'''

CLASS_MADE = "self.W1, self.W2 = 0.5 * np.ones((n_in, n_hidden)), 0.5 * np.ones((n_hidden, 1))"
CLASS_RANDOM = "self.W1, self.W2 = 0.5 * np.random.randn(n_in, n_hidden), 0.5 * np.random.randn(n_hidden, 1)"

# made with np.empty, then filled with one number: the fill is what makes the units equal
FILLED = "W_in, W_out = np.empty((2, H)), np.empty((H, 1))\nW_in.fill(0.3)\nW_out[:] = 0.3"


def _symmetric(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD611"]


@pytest.mark.parametrize(
    ("name", "program", "made"),
    [("script.py", SCRIPT, "W_in, W_out = np.full"), ("regressor.py", CLASS, CLASS_MADE)],
)
def test_equal_weights_are_named_where_they_are_made(tmp_path, name, program, made):
    path = write(tmp_path, name, program)
    report = check(path)
    (finding,) = _symmetric(report)
    assert finding["line"] == line_of(path, made), finding
    assert report["findings"][report["root_cause"]] == finding


def test_weights_filled_after_they_are_made_are_named_at_the_fill(tmp_path):
    path = planted(tmp_path, "filled.py", SCRIPT, "W_in, W_out = np.full((2, H), 0.3), np.full((H, 1), 0.3)", FILLED)
    (finding,) = _symmetric(check(path))
    assert finding["line"] == line_of(path, "W_in.fill(0.3)"), finding


def test_weights_from_a_function_of_the_users_are_named_where_they_are_unpacked(tmp_path):
    made = "def make():\n    return np.full((2, H), 0.3), np.full((H, 1), 0.3)\n\n\nW_in, W_out = make()"
    path = planted(tmp_path, "made.py", SCRIPT, "W_in, W_out = np.full((2, H), 0.3), np.full((H, 1), 0.3)", made)
    (finding,) = _symmetric(check(path))
    assert finding["line"] == line_of(path, "W_in, W_out = make()"), finding
    assert "`b_in`" not in finding["message"]  # a bias row is not a weight matrix


@pytest.mark.parametrize(
    ("name", "program", "made", "random"),
    [("script.py", SCRIPT, "W_in, W_out = np.full((2, H), 0.3), np.full((H, 1), 0.3)", SCRIPT_RANDOM), ("regressor.py", CLASS, CLASS_MADE, CLASS_RANDOM)],
)
def test_random_twins_are_clean(tmp_path, name, program, made, random):
    report = check(planted(tmp_path, name, program, made, random))
    assert _symmetric(report) == []
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
