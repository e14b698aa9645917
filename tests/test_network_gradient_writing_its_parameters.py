"""A network's check reads its parameters as the caller holds them without comparing them again
(`LayerCheck._unmoved`): for the one `gradient` call of the network's first check they are
read-only. A `gradient` that writes into a parameter in place (a weight decay or a clip applied
there, a scale by 1.0) raises inside that check, and the network is checked layer by layer
instead, which lets it write: the same findings as if nothing had been frozen, and the caller's
arrays as they were."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import backprop_doctor as bd

SOURCE = '''
import numpy as np


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


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y ** 2)


class SoftmaxWithLoss:
    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.t = t
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self, write):
        rng = np.random.default_rng(0)
        self.params = {"W1": 0.3 * rng.standard_normal((6, 5)), "b1": np.zeros(5),
                       "W2": 0.3 * rng.standard_normal((5, 3)), "b2": np.zeros(3)}
        self.layers = [Affine(self.params["W1"], self.params["b1"]), Tanh(), Affine(self.params["W2"], self.params["b2"])]
        self.last_layer = SoftmaxWithLoss()
        self.write = write

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {"W1": self.layers[0].dW, "b1": self.layers[0].db, "W2": self.layers[2].dW, "b2": self.layers[2].db}
        if self.write == "scale":
            self.params["W2"] *= 1.0
        elif self.write == "clip":
            np.clip(self.params["W1"], -10.0, 10.0, out=self.params["W1"])
        return grads
'''


@pytest.fixture
def module(tmp_path):
    path = tmp_path / "net_writing_params.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("net_writing_params", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def batch():
    rng = np.random.default_rng(3)
    return rng.standard_normal((8, 6)), np.eye(3)[rng.integers(0, 3, 8)]


@pytest.mark.parametrize("write", ["scale", "clip"])
def test_a_gradient_that_writes_its_parameters_in_place_is_still_checked_and_clean(module, write):
    net = module.Net(write)
    before = {k: v.copy() for k, v in net.params.items()}
    x, t = batch()
    report = bd.check_network(net, x, t)
    assert report.ok and [f for f in report.findings if f.severity != "info"] == [], report.findings
    assert all(np.array_equal(before[k], net.params[k]) for k in before)
    assert all(v.flags.writeable for v in net.params.values())  # nothing left read-only
    # the layer-by-layer check ran: more evaluations than the network's three
    assert report.extras["forward_evaluations"] > bd.check_network(module.Net(None), x, t).extras["forward_evaluations"]


def test_the_same_network_that_leaves_its_parameters_alone_is_settled_by_its_own_three_evaluations(module):
    report = bd.check_network(module.Net(None), *batch())
    assert report.ok and report.findings == []
    assert report.extras["forward_evaluations"] == 3
