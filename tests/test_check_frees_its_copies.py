"""A check lets go of its working copies when it returns, not at the next cyclic collection.

A recursive helper written as a closure (`def walk(...)` calling itself inside the function
that defines it) is a reference cycle: the function holds its cell, the cell holds the
function, and with them whatever else the closure reads, until Python's cycle collector runs.
`api.originals` collected the working copy's arrays that way, so the copy of the network's
largest weight outlived every check; freed at some later collection, it left the heap to grow
and shrink in the middle of the next check (page faults in the user's own backward). Memory
is measured here with the cycle collector off, as counts of bytes (never time).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections import OrderedDict

import numpy as np

import backprop_doctor as bd


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class TwoLayerNet:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": 0.1 * rng.standard_normal((400, 40)),
            "b1": np.zeros(40),
            "W2": 0.1 * rng.standard_normal((40, 10)),
            "b2": np.zeros(10),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {
            "W1": self.layers["Affine1"].dW,
            "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW,
            "b2": self.layers["Affine2"].db,
        }


def _held_after(check) -> int:
    """Bytes still allocated once `check()` has returned (and its result is let go), the cycle
    collector off: what the check left to a later collection."""
    check()  # anything created once per process (caches of the engine) is made here
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        check()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        if enabled:
            gc.enable()


def test_a_network_check_holds_no_copy_of_a_weight_after_it_returns():
    net = TwoLayerNet()
    rng = np.random.default_rng(1)
    x = rng.random((50, 400))
    t = np.eye(10)[rng.integers(0, 10, 50)]

    def check():
        report = bd.check_network(net, x, t)
        assert report.ok and report.findings == []

    # W1 is 128 kB: its working copy (or any other) outliving the check would show whole
    assert _held_after(check) < net.params["W1"].nbytes // 4


def test_a_float32_layer_check_holds_no_copy_of_its_weight_after_it_returns():
    # its copy is promoted to float64 (`promote_to_float64`): the float32 arrays it replaces
    # were collected by a recursive closure (`_arrays_in`) too
    rng = np.random.default_rng(2)
    layer = Affine(rng.standard_normal((400, 40)).astype(np.float32), np.zeros(40, dtype=np.float32))
    x = rng.random((50, 400)).astype(np.float32)

    def check():
        report = bd.check_layer(layer, x)
        assert not [f for f in report.findings if f.severity == "error"]

    assert _held_after(check) < layer.W.nbytes // 4
