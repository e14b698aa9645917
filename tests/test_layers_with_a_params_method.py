"""Layers that list their arrays through a `params()` method (`return [(self.W, self.dW), ...]`), not a
`params` attribute, checked as the program called them on its own batch (bigger than the rows a check
keeps): the check asks which arrays a layer lists to tell its parameters from the batch it keeps, and
a method is no list. Every layer is checked, so a dropout backward that draws a new mask instead of
the one its forward used is named at its line.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

np.random.seed(6)


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T

    def params(self):
        return [(self.W, self.dW), (self.b, self.db)]


class Dropout:
    def __init__(self, keep=0.8):
        self.keep = keep

    def forward(self, x):
        self.mask = (np.random.rand(*x.shape) < self.keep) / self.keep
        return x * self.mask

    def backward(self, g):
        return g * self.mask

    def params(self):
        return []


X = np.random.randn(200, 10)
y = (X[:, 0] + X[:, 1] > 0).astype(int)
layers = [Linear(10, 32), Dropout(0.8), Linear(32, 2)]
for step in range(100):
    out = X
    for layer in layers:
        out = layer.forward(out)
    p = np.exp(out - out.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(200), y]))
    g = p.copy()
    g[np.arange(200), y] -= 1
    g /= 200
    for layer in reversed(layers):
        g = layer.backward(g)
    for layer in layers:
        for w, dw in layer.params():
            w -= 0.1 * dw
'''

RIGHT = "        return g * self.mask\n"


def test_every_layer_is_checked(tmp_path):
    report = check(planted(tmp_path, "drop.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert not [b for b in report["built"] if b["skipped"] and "not iterable" in b["skipped"]]
    assert {m["layer"] for m in report["measurements"]} >= {"Linear", "Dropout"}


def test_a_new_mask_in_backward_is_named(tmp_path):
    path = planted(tmp_path, "drop.py", PROGRAM, RIGHT, "        return g * (np.random.rand(*g.shape) < self.keep) / self.keep\n")
    (error, *_) = errors(check(path))
    assert error["line"] == line_of(path, "return g * (np.random.rand(*g.shape)")
