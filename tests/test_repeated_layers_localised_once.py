"""A network built of several layers of one class with one bug (the second book's deep conv net:
six `Convolution`s whose `col2im` overwrites instead of adding) has every one of them wrong. Each
is still reported, but only the first is compared element by element in full: the later ones of
the class compare the first few elements, so a slow layer's bug does not take the check's time
limit six times over."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

import backprop_doctor as bd
from backprop_doctor import gradcheck


class Linear:
    def __init__(self, W):
        self.W = W
        self.x = None
        self.dW = None

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W  # should be dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out**2)


class SquaredLoss:
    def forward(self, y, t):
        self.diff = y - t
        return 0.5 * float(np.sum(self.diff**2)) / len(y)

    def backward(self, dout=1):
        return dout * self.diff / len(self.diff)


class Deep:
    def __init__(self, width=6, depth=3, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {}
        self.layers = OrderedDict()
        for i in range(1, depth + 1):
            self.params[f"W{i}"] = rng.standard_normal((width, width)) / np.sqrt(width)
            self.layers[f"Linear{i}"] = Linear(self.params[f"W{i}"])
            self.layers[f"Tanh{i}"] = Tanh()
        self.last_layer = SquaredLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return {f"W{i}": self.layers[f"Linear{i}"].dW for i in range(1, len(self.params) + 1)}


def test_every_layer_of_the_class_is_reported_and_only_the_first_compared_in_full(monkeypatch):
    compared: list[tuple[int, tuple[int, ...]]] = []  # (elements compared, the array's shape)
    elementwise = gradcheck.elementwise

    def counted(f, f0, array, grad, h, rng, *args, **kwargs):
        result = elementwise(f, f0, array, grad, h, rng, *args, **kwargs)
        compared.append((len(result.indices), array.shape))
        return result

    monkeypatch.setattr(gradcheck, "elementwise", counted)
    rng = np.random.default_rng(1)
    net, x, t = Deep(), rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    report = bd.check_network(net, x, t)
    wrong = {f.layer for f in report.findings if f.code == "BPD101" and f.param == "x"}
    assert wrong == {"Linear1", "Linear2", "Linear3"}
    # the layers' inputs (4 x 6; the network's own weights are 6 x 6): the first compared in full, the later ones a few
    inputs = [n for n, shape in compared if shape == (4, 6)]
    assert inputs == [24, gradcheck.MIN_ELEMENTS, gradcheck.MIN_ELEMENTS]
