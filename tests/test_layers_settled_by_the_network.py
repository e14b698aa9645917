"""Which layers of a network the network's own check settles, and which it checks whole.

A layer whose dx reaches the gradient of an earlier layer's parameters, and whose own
parameters are the network's, makes no probe of its own when the network's check is clean
and ran it: a wrong dx or parameter gradient would have made the network's gradient wrong.
The first layer's dx is the gradient of the network's input, which the network's forward
differences move too (`test_first_layer_settled_by_the_network.py`).
Its row in the table says so ("ok (network)"). A layer the network's check does not settle
(the check found something, or the network's `gradient` never ran the layer) is checked
whole, as if nothing had been deferred: the same findings at the same lines.
"""

from __future__ import annotations

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


class ReluHalfGradient(Relu):
    def backward(self, dout):
        return 0.5 * np.where(self.mask, 0.0, dout)  # the wrong dx of a middle layer


class SoftmaxWithLoss:
    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.t = t
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self, relu=Relu, skip_relu_in_gradient=False):
        rng = np.random.default_rng(0)
        self.params = {"W1": rng.standard_normal((6, 5)), "b1": np.zeros(5), "W2": rng.standard_normal((5, 3)), "b2": np.zeros(3)}
        self.layers = OrderedDict(
            Affine1=Affine(self.params["W1"], self.params["b1"]),
            Relu1=relu(),
            Affine2=Affine(self.params["W2"], self.params["b2"]),
        )
        self.lastLayer = SoftmaxWithLoss()
        self.spare = relu()  # what `gradient` runs instead of the listed Relu1, when asked to
        self.skip = skip_relu_in_gradient

    def loss(self, x, t):
        for layer in self.layers.values():
            x = layer.forward(x)
        return self.lastLayer.forward(x, t)

    def gradient(self, x, t):
        layers = list(self.layers.values())
        if self.skip:
            layers[1] = self.spare
        h = x
        for layer in layers:
            h = layer.forward(h)
        self.lastLayer.forward(h, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(layers):
            dout = layer.backward(dout)
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db, "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}


def batch():
    rng = np.random.default_rng(1)
    return rng.standard_normal((8, 6)), np.eye(3)[rng.integers(0, 3, 8)]


def verdicts(report):
    return {(m.layer, m.param): m.verdict for m in report.measurements}


def test_a_clean_network_settles_every_layer():
    report = bd.check_network(Net(), *batch())
    assert report.ok and report.findings == []
    assert verdicts(report) == {
        ("Affine1", "x"): "ok (network)",  # its dx: the input's gradient, in the forward differences
        ("Affine1", "W"): "ok (network)",
        ("Affine1", "b"): "ok (network)",
        ("Relu1", "x"): "ok (network)",
        ("Affine2", "x"): "ok (network)",
        ("Affine2", "W"): "ok (network)",
        ("Affine2", "b"): "ok (network)",
        ("SoftmaxWithLoss", "x"): "ok (network)",
        ("Net", "W1"): "ok",
        ("Net", "b1"): "ok",
        ("Net", "W2"): "ok",
        ("Net", "b2"): "ok",
    }


def test_a_wrong_middle_layer_is_checked_whole_and_named():
    report = bd.check_network(Net(relu=ReluHalfGradient), *batch())
    wrong = {(f.layer, f.param) for f in report.errors if f.name == "gradient-mismatch"}
    assert ("ReluHalfGradient", "x") in wrong and ("Net", "W1") in wrong  # the layer named by its class
    assert verdicts(report)[("ReluHalfGradient", "x")] == "mismatch"
    assert verdicts(report)[("Affine2", "W")] == "ok"  # probed again by its own check


def test_a_layer_the_networks_gradient_does_not_run_gets_its_own_probes():
    report = bd.check_network(Net(skip_relu_in_gradient=True), *batch())
    assert report.findings == []
    assert verdicts(report)[("Relu1", "x")] == "ok"  # the network's check never ran it
    assert verdicts(report)[("Affine2", "W")] == "ok (network)"
