"""A network class whose `backward(X, y)` takes the input again and the targets (not an upstream
gradient) and returns its gradients, or `backward(X, y, lr)` that updates as it goes: the shape most
first networks written from a tutorial have. Its forward keeps what it computes on `self`
(`self.z1`, `self.a1`), its backward works in locals (`da1`, `dz1`).

It is no layer: its backward is never given an upstream gradient (a correct one was reported as a
gradient of the wrong shape). Its training loop is what is checked, and a wrong adjoint inside the
backward is named at its line, paired with the forward value the forward kept on `self`.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

RETURNS = '''\
import numpy as np


class NeuralNetwork:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.5
        self.b1 = np.zeros((1, n_hidden))
        self.W2 = np.random.randn(n_hidden, n_out) * 0.5
        self.b2 = np.zeros((1, n_out))

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.a1 = self.sigmoid(self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = self.sigmoid(self.z2)
        return self.a2

    def backward(self, X, y):
        m = X.shape[0]
        dz2 = (self.a2 - y) / m
        dW2 = self.a1.T @ dz2
        db2 = dz2.sum(axis=0, keepdims=True)
        da1 = dz2 @ self.W2.T
        dz1 = da1 * self.a1 * (1 - self.a1)
        dW1 = X.T @ dz1
        db1 = dz1.sum(axis=0, keepdims=True)
        return dW1, db1, dW2, db2


np.random.seed(0)
X = np.random.randn(64, 2)
y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)
nn = NeuralNetwork(2, 8, 1)
for epoch in range(500):
    out = nn.forward(X)
    loss = -np.mean(y * np.log(out) + (1 - y) * np.log(1 - out))
    dW1, db1, dW2, db2 = nn.backward(X, y)
    nn.W1 -= 0.5 * dW1
    nn.b1 -= 0.5 * db1
    nn.W2 -= 0.5 * dW2
    nn.b2 -= 0.5 * db2
'''

UPDATES = (
    RETURNS.replace("def backward(self, X, y):", "def backward(self, X, y, lr):")
    .replace(
        "        return dW1, db1, dW2, db2\n",
        "        self.W2 -= lr * dW2\n        self.b2 -= lr * db2\n        self.W1 -= lr * dW1\n        self.b1 -= lr * db1\n",
    )
    .replace(
        "    dW1, db1, dW2, db2 = nn.backward(X, y)\n    nn.W1 -= 0.5 * dW1\n    nn.b1 -= 0.5 * db1\n    nn.W2 -= 0.5 * dW2\n    nn.b2 -= 0.5 * db2\n",
        "    nn.backward(X, y, 0.5)\n",
    )
)

RIGHT = "dz1 = da1 * self.a1 * (1 - self.a1)"
SLOPE_LEFT_OUT = "dz1 = da1 * self.a1"
SHAPES = {"returns its gradients": RETURNS, "updates as it goes": UPDATES}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_right_network_gets_no_finding(tmp_path, shape):
    assert "nn.backward(X, y" in SHAPES[shape]
    report = check(planted(tmp_path, "net.py", SHAPES[shape], RIGHT, RIGHT))
    assert report["findings"] == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {"nn.W1", "nn.b1", "nn.W2", "nn.b2"}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_wrong_hidden_adjoint_is_named_at_its_line_with_the_one_it_is_computed_from(tmp_path, shape):
    path = planted(tmp_path, "net.py", SHAPES[shape], RIGHT, SLOPE_LEFT_OUT)
    report = check(path)
    (found,) = errors(report)
    assert (found["code"], found["param"], found["line"]) == ("BPD108", "dz1", line_of(path, SLOPE_LEFT_OUT))
    assert "`dz1` (line" in found["message"] and "with respect to `self.z1`, although `da1`, which it is computed from, is right" in found["message"]
    assert found["message"].endswith(
        f"`self.a1` is the sigmoid of `self.z1` (line {line_of(path, 'self.a1 = self.sigmoid(self.z1)')}), so `dz1` must be "
        "`da1` × the sigmoid's derivative, `self.a1 * (1 - self.a1)`"
    )


ONE_METHOD = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class Net:
    def __init__(self, n_in, n_hidden, n_out, lr=0.5):
        rng = np.random.default_rng(1)
        self.W1 = rng.normal(size=(n_in, n_hidden)) * 0.5
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(size=(n_hidden, n_out)) * 0.5
        self.b2 = np.zeros(n_out)
        self.lr = lr

    def train(self, X, y):
        z1 = X @ self.W1 + self.b1
        h = np.tanh(z1)
        z2 = h @ self.W2 + self.b2
        out = sigmoid(z2)
        loss = np.mean((out - y) ** 2)
        d_out = 2 * (out - y) / y.size
        d_z2 = d_out * out * (1 - out)
        d_W2 = h.T @ d_z2
        d_b2 = d_z2.sum(axis=0)
        d_h = d_z2 @ self.W2.T
        d_z1 = d_h * (1 - h ** 2)
        d_W1 = X.T @ d_z1
        d_b1 = d_z1.sum(axis=0)
        self.W1 -= self.lr * d_W1
        self.b1 -= self.lr * d_b1
        self.W2 -= self.lr * d_W2
        self.b2 -= self.lr * d_b2
        return loss


X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0], [1], [1], [0]], dtype=float)
net = Net(2, 4, 1)
for epoch in range(2000):
    loss = net.train(X, y)
'''


def test_one_method_that_computes_updates_and_returns_the_loss_is_walked_inside(tmp_path):
    """`loss = net.train(X, y)`: the loss is what the updating call returns, computed before its updates."""
    right = "d_z1 = d_h * (1 - h ** 2)"
    assert errors(check(planted(tmp_path / "right", "xor.py", ONE_METHOD, right, right))) == []
    path = planted(tmp_path / "wrong", "xor.py", ONE_METHOD, right, "d_z1 = d_h * (1 - h)")
    (found,) = errors(check(path))
    assert (found["param"], found["line"]) == ("d_z1", line_of(path, "d_z1 = d_h * (1 - h)"))
    assert found["message"].endswith(f"`h` is the tanh of `z1` (line {line_of(path, 'h = np.tanh(z1)')}), so `d_z1` must be `d_h` × the tanh's derivative, `1 - h ** 2`")
