"""A model that keeps gradient buffers made once in `__init__` (`self.dW1 = np.zeros_like(self.W1)`),
adds each pass's gradient to them in `backward` (`self.dW1 += ...`) and is stepped by another method
(`self.W1 -= lr * self.dW1`), with no reset between steps: from the second pass on every update moves
by the sum of all the gradients so far. The replay reads the buffers the parameter's own object holds,
finds that each gradient less what its buffer began the pass with is the loss's, and names the adding
line, although the loss is a method of the model and every update is wrong.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.standard_normal((n_in, n_hidden)) * 0.5
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.standard_normal((n_hidden, 1)) * 0.5
        self.b2 = np.zeros(1)
        self.dW1 = np.zeros_like(self.W1)
        self.db1 = np.zeros_like(self.b1)
        self.dW2 = np.zeros_like(self.W2)
        self.db2 = np.zeros_like(self.b2)

    def forward(self, X):
        self.X = X
        self.h = np.tanh(X @ self.W1 + self.b1)
        self.out = self.h @ self.W2 + self.b2
        return self.out

    def loss(self, y):
        return 0.5 * np.mean((self.out - y) ** 2)

    def zero_grad(self):
        for name in ("dW1", "db1", "dW2", "db2"):
            getattr(self, name)[...] = 0.0

    def backward(self, y):
        d = (self.out - y) / len(y)
        self.dW2 += self.h.T @ d
        self.db2 += d.sum(axis=0)
        dh = d @ self.W2.T * (1 - self.h ** 2)
        self.dW1 += self.X.T @ dh
        self.db1 += dh.sum(axis=0)

    def step(self, lr):
        self.W1 -= lr * self.dW1
        self.b1 -= lr * self.db1
        self.W2 -= lr * self.dW2
        self.b2 -= lr * self.db2


rng = np.random.default_rng(3)
X = rng.uniform(-1, 1, size=(400, 3))
y = (np.sin(2 * X[:, :1]) + X[:, 1:2] * X[:, 2:3])
net = Net(3, 16)
for epoch in range(40):
    order = rng.permutation(len(X))
    for i in range(0, len(X), 40):
        idx = order[i:i + 40]
        net.zero_grad()
        net.forward(X[idx])
        net.backward(y[idx])
        net.step(0.2)
    net.forward(X)
    print(epoch, net.loss(y))
'''

RESET = "        net.zero_grad()\n"


def test_buffers_never_reset_are_named(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, RESET, "")
    found = errors(check(path))
    assert found and all(f["code"] == "BPD108" for f in found)
    assert found[0]["line"] == line_of(path, "self.dW1 += self.X.T @ dh")
    assert "without resetting" in found[0]["message"]


def test_buffers_reset_each_step_are_clean(tmp_path):
    assert errors(check(planted(tmp_path, "net.py", PROGRAM, RESET, RESET))) == []
