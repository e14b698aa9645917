"""A layer whose backward takes its own step, written as a rebinding with a momentum term beside it
(`self.W = self.W - self.lr * dW + self.momentum * (self.W - self.W_last)`): a second backward reads
the moved weights, by design. An info that says so, not a non-re-entrant error. A layer that changes
other state in backward (a counter beside an accumulated gradient) keeps its error.

Two styles: a `Module`-like base class with layers holding their own rate and momentum, and a plain
layer with its rate given at construction and a step written `self.b = self.b + (-self.lr) * db`.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, write

MODULES = '''\
import numpy as np


class Module:
    def __init__(self):
        self.training = True


class Linear(Module):
    def __init__(self, n_in, n_out, lr=0.01, momentum=0.9):
        super().__init__()
        self.W = np.random.randn(n_in, n_out) / np.sqrt(n_in + n_out)
        self.b = np.zeros((1, n_out))
        self.W_last, self.b_last = self.W.copy(), self.b.copy()
        self.lr, self.momentum = lr, momentum

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        dx = g @ self.W.T
        dW = self.x.T @ g
        db = g.sum(axis=0, keepdims=True)
        W, b = self.W.copy(), self.b.copy()
        self.W = self.W - self.lr * dW + self.momentum * (self.W - self.W_last)
        self.b = self.b - self.lr * db + self.momentum * (self.b - self.b_last)
        self.W_last, self.b_last = W, b
        return dx


class Tanh(Module):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y ** 2)


np.random.seed(0)
X = np.random.randn(64, 3)
Y = np.sin(X[:, :1])
layers = [Linear(3, 8), Tanh(), Linear(8, 1)]
for epoch in range(100):
    out = X
    for layer in layers:
        out = layer.forward(out)
    g = 2 * (out - Y) / len(X)
    for layer in reversed(layers):
        g = layer.backward(g)
'''

PLAIN = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, lr=0.05):
        rng = np.random.default_rng(1)
        self.W = rng.normal(size=(n_in, n_out)) * 0.3
        self.b = np.zeros(n_out)
        self.lr = lr

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        dx = dout @ self.W.T
        self.W = self.W + (-self.lr) * (self.x.T @ dout)
        self.b = self.b + (-self.lr) * dout.sum(axis=0)
        return dx


rng = np.random.default_rng(2)
X = rng.normal(size=(50, 4))
y = X @ rng.normal(size=(4, 2))
layer = Dense(4, 2)
for i in range(100):
    out = layer.forward(X)
    layer.backward(2 * (out - y) / len(X))
'''

COUNTER = PLAIN.replace(
    "        self.W = self.W + (-self.lr) * (self.x.T @ dout)\n        self.b = self.b + (-self.lr) * dout.sum(axis=0)\n",
    "        self.dW += self.x.T @ dout\n        self.db += dout.sum(axis=0)\n        self.calls = self.calls + 1\n",
).replace("        self.lr = lr\n", "        self.lr = lr\n        self.dW, self.db, self.calls = np.zeros_like(self.W), np.zeros_like(self.b), 0\n")


@pytest.mark.parametrize("text, layer", [(MODULES, "Linear"), (PLAIN, "Dense")], ids=["modules", "plain"])
def test_a_layer_stepping_itself_in_backward_is_an_info(tmp_path, text, layer):
    report = check(write(tmp_path, "layers.py", text))
    assert not [f for f in errors(report) if f["name"] == "nonreentrant-backward"]
    (note,) = [f for f in report["findings"] if f["name"] == "nonreentrant-backward" and f["layer"] == layer]
    assert note["severity"] == "info" and "updates the layer's parameters itself" in note["message"]


def test_a_counter_beside_accumulated_gradients_keeps_its_error(tmp_path):
    report = check(write(tmp_path, "layers.py", COUNTER))
    assert [f for f in errors(report) if f["name"] == "nonreentrant-backward" and f["layer"] == "Dense"]
