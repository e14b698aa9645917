"""Networks whose `gradient` is written two other common ways: it returns a tuple (`return dW, db`)
for the attributes `W`, `b` in the order the network binds them, or it takes no arguments because
`loss(x, t)` kept what it needs. Both are checked like a dict-returning `gradient(x, t)`: the right
ones are clean, a wrong one is found."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, planted, write

TUPLE = '''\
import numpy as np


class Net:
    def __init__(self):
        self.W = 0.5 * np.random.randn(3, 2)
        self.b = np.zeros(2)

    def loss(self, x, t):
        return 0.5 * np.mean(np.sum((x @ self.W + self.b - t) ** 2, axis=1))

    def gradient(self, x, t):
        d = (x @ self.W + self.b - t) / len(x)
        return x.T @ d, d.sum(axis=0)


X = np.random.randn(64, 3)
T = X @ np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]]) + 0.1
net = Net()
for epoch in range(50):
    loss = net.loss(X, T)
    dW, db = net.gradient(X, T)
    net.W -= 0.1 * dW
    net.b -= 0.1 * db
'''

NO_ARGUMENTS = TUPLE.replace(
    "    def loss(self, x, t):\n        return 0.5 * np.mean(np.sum((x @ self.W + self.b - t) ** 2, axis=1))\n",
    "    def loss(self, x, t):\n        self.x, self.t = x, t\n        self.y = x @ self.W + self.b\n"
    "        return 0.5 * np.mean(np.sum((self.y - t) ** 2, axis=1))\n",
).replace(
    "    def gradient(self, x, t):\n        d = (x @ self.W + self.b - t) / len(x)\n        return x.T @ d, d.sum(axis=0)\n",
    "    def gradient(self):\n        d = (self.y - self.t) / len(self.x)\n        return self.x.T @ d, d.sum(axis=0)\n",
).replace("dW, db = net.gradient(X, T)", "dW, db = net.gradient()")


@pytest.mark.parametrize("source", [TUPLE, NO_ARGUMENTS], ids=["tuple", "no-arguments"])
def test_such_a_network_is_checked_and_clean(tmp_path, source):
    report = check(write(tmp_path, "net.py", source))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Net"} == {"W", "b"}


@pytest.mark.parametrize("source", [TUPLE, NO_ARGUMENTS], ids=["tuple", "no-arguments"])
def test_a_wrong_gradient_of_such_a_network_is_found(tmp_path, source):
    path = planted(tmp_path, "net.py", source, "d.sum(axis=0)", "d.sum(axis=0) * 2")
    assert "b" in {f["param"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
