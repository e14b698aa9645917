"""What a layer's adapter reads of its backward's source (the names it returns, the attributes it
assigns) is read once per function, not at every adapter built: a network's check builds two
adapters a layer, and tokenizing and parsing the source cost more than the layer's own calls.
Counts, never time."""

from __future__ import annotations

import inspect
from collections import OrderedDict

import numpy as np

import backprop_doctor as bd


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        z = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = z / z.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.params = {"W1": 0.1 * rng.standard_normal((6, 5)), "b1": np.zeros(5), "W2": 0.1 * rng.standard_normal((5, 3)), "b2": np.zeros(3)}
        self.layers = OrderedDict(
            Affine1=Affine(self.params["W1"], self.params["b1"]), Relu1=Relu(), Affine2=Affine(self.params["W2"], self.params["b2"])
        )
        self.lastLayer = SoftmaxWithLoss()

    def loss(self, x, t):
        for layer in self.layers.values():
            x = layer.forward(x)
        return self.lastLayer.forward(x, t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": a1.dW, "b1": a1.db, "W2": a2.dW, "b2": a2.db}


def test_a_second_check_of_the_same_network_reads_no_source(monkeypatch):
    rng = np.random.default_rng(1)
    x, t = rng.random((4, 6)), np.eye(3)[rng.integers(0, 3, 4)]
    net = Net()
    first = bd.check_network(net, x, t)
    reads = []
    getsource = inspect.getsource

    def counted(obj):
        reads.append(getattr(obj, "__qualname__", obj))
        return getsource(obj)

    monkeypatch.setattr(inspect, "getsource", counted)
    second = bd.check_network(net, x, t)
    assert first.ok and second.ok
    assert [(m.layer, m.param, m.verdict) for m in second.measurements] == [(m.layer, m.param, m.verdict) for m in first.measurements]
    assert reads == []


def _returning():
    class Linear:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dy):
            dW = self.x.T @ dy
            db = dy.sum(axis=0)
            return dW, db

    return Linear


def _keeping():
    class Linear:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dy):
            self.dW = self.x.T @ dy
            self.db = dy.sum(axis=0)
            return dy @ self.W.T

    return Linear


def test_two_classes_of_one_name_are_each_read_from_their_own_backward():
    rng = np.random.default_rng(2)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    for _ in range(2):  # alternately, each after the other has been read
        returning = bd.check_layer(_returning()(W.copy(), b.copy()), x)
        keeping = bd.check_layer(_keeping()(W.copy(), b.copy()), x)
        # `return dW, db`: the parameters' gradients, no input gradient asked for
        assert returning.findings == [] and sorted(m.param for m in returning.measurements) == ["W", "b"]
        assert keeping.findings == [] and sorted(m.param for m in keeping.measurements) == ["W", "b", "x"]
