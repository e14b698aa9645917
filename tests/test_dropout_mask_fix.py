"""A dropout layer whose backward forgets the mask gets the corrected line in the user's names
(`return grad_out * self.keep`), not only "re-derive it": forward multiplies its input by an array it
kept, so dx is the upstream gradient times that array."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = """\
import numpy as np


class Dropout:
    def __init__(self, p=0.5):
        self.p = p

    def forward(self, x, train=True):
        if train:
            self.keep = (np.random.rand(*x.shape) > self.p) / (1 - self.p)
            return x * self.keep
        return x

    def backward(self, grad_out):
        return grad_out * self.keep


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x, train=True):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_out):
        self.dW = self.x.T @ grad_out
        self.db = grad_out.sum(axis=0)
        return grad_out @ self.W.T


np.random.seed(0)
X = np.random.randn(64, 5)
y = X[:, :1] - X[:, 1:2]
net = [Linear(5, 32), Dropout(0.2), Linear(32, 1)]
for epoch in range(50):
    out = X
    for layer in net:
        out = layer.forward(out)
    grad = 2 * (out - y) / len(X)
    for layer in reversed(net):
        grad = layer.backward(grad)
    for layer in (net[0], net[2]):
        layer.W -= 0.05 * layer.dW
        layer.b -= 0.05 * layer.db
"""


def test_the_right_dropout_passes(tmp_path):
    assert errors(check(planted(tmp_path, "dropout.py", PROGRAM, "", ""))) == []


def test_a_mask_left_out_of_backward_gets_the_line_with_the_mask(tmp_path):
    path = planted(tmp_path, "dropout.py", PROGRAM, "        return grad_out * self.keep\n", "        return grad_out\n")
    (finding,) = [f for f in errors(check(path)) if f["layer"] == "Dropout"]
    assert finding["line"] == line_of(path, "def backward(self, grad_out):") + 1
    assert finding["fix"] == "return grad_out * self.keep"
