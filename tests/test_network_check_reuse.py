"""What `check_network` reuses instead of running again, and what it still finds.

Each layer's first forward output is the next layer's input (no forward of its own to build
the activations); the network's gradient, and its input's (the first layer's dx), are settled
by two forward differences that reuse its first loss, and anything those do not settle is
probed with central differences as before. A network written the book's way, at a small size.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor.conventions.networks import Network

CALLS: Counter = Counter()


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        CALLS[f"{self.name}.forward"] += 1
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Sigmoid:
    def forward(self, x):
        CALLS["Sigmoid.forward"] += 1
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.1):
        rng = np.random.default_rng(3)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Sigmoid"] = Sigmoid()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Affine1"].name, self.layers["Affine2"].name = "Affine1", "Affine2"
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        CALLS["loss"] += 1
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db, "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}


class W1GradientOnePercentHigh(TwoLayerNet):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        grads["W1"] = grads["W1"] * 1.01
        return grads


def batch(rows=8, features=12, classes=4, seed=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, features)), np.eye(classes)[rng.integers(0, classes, rows)]


def test_every_layer_runs_its_forward_only_in_the_networks_calls():
    x, t = batch()
    net = TwoLayerNet(12, 6, 4)
    CALLS.clear()
    report = bd.check_network(net, x, t)
    assert report.ok and report.findings == []
    # no layer's own check calls it (the network's clean check settles them, the first layer's dx
    # as its input's gradient, their contracts read from `gradient`'s calls); the network: the
    # forward inside `gradient`, whose loss is the network's first (`NetworkAdapter.first_forward`),
    # and two forward differences; nothing else
    assert CALLS["Affine1.forward"] == 3
    assert CALLS["Sigmoid.forward"] == 3
    assert CALLS["Affine2.forward"] == 3
    assert CALLS["loss"] == 3
    network = [m for m in report.measurements if m.layer == "TwoLayerNet"]
    assert {m.param for m in network} == {"W1", "b1", "W2", "b2"} and {m.verdict for m in network} == {"ok"}


def test_a_network_gradient_one_percent_off_is_still_found_and_named():
    x, t = batch()
    report = bd.check_network(W1GradientOnePercentHigh(12, 6, 4), x, t)
    errors = [(f.name, f.layer, f.param, f.pattern) for f in report.findings if f.severity == "error"]
    assert errors == [("gradient-mismatch", "W1GradientOnePercentHigh", "W1", "scaled")]
    (finding,) = [f for f in report.findings if f.severity == "error"]
    assert "1.01 ×" in finding.message


def test_a_network_whose_loss_moves_only_by_rounding_is_probed_with_central_differences():
    x, t = batch()
    narrow = TwoLayerNet(12, 6, 4, weight_init_std=1e-7)  # the loss changes in its last digits
    wide = TwoLayerNet(12, 6, 4)
    reports = {net.params["W1"].std() < 1e-5: bd.check_network(net, x, t) for net in (narrow, wide)}
    assert reports[True].findings == [] and reports[False].findings == []
    # the forward differences did not decide: central probes followed (at least four evaluations more)
    assert reports[True].extras["forward_evaluations"] >= reports[False].extras["forward_evaluations"] + 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_caller_that_does_not_send_outputs_gets_the_layers_own_activations(dtype):
    x, _ = batch()
    x = x.astype(dtype)
    net = TwoLayerNet(12, 6, 4)
    given = x.copy()
    seen = []
    for key, layer, activation, target, is_loss in Network(net).layer_inputs(x, None):
        seen.append((key, activation.copy()))
        activation[...] = 7.0  # a caller that scribbles on what it was handed
    assert np.array_equal(x, given)
    h1 = np.dot(given.astype(np.float64), net.params["W1"]) + net.params["b1"]
    expected = [given.astype(np.float64), h1, 1 / (1 + np.exp(-h1))]
    assert [k for k, _ in seen] == ["Affine1", "Sigmoid", "Affine2", "lastLayer"]
    for (_, got), want in zip(seen, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
