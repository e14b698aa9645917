"""What a clean network's check costs, in calls of the user's own code (counts, never time).

The book's two-layer network at the shapes of MNIST. A clean network gets no call of any
layer of its own: the network's check comes first, its one `gradient` call shows each layer's
contracts (inputs and dout left alone, each backward watched for state a second call would
read), and its clean check settles every layer, the first one's dx as the gradient of its
input; one `gradient` call (its layers are re-entrant), two forward differences for the whole
gradient and the input's, and no copy of the batch per evaluation.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

import numpy as np
import pytest

import backprop_doctor as bd


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        CALLS[f"{self.name}.forward"] += 1
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        CALLS[f"{self.name}.backward"] += 1
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
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
        CALLS["gradient"] += 1
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


CALLS: Counter = Counter()


@pytest.fixture
def mnist_shaped():
    rng = np.random.default_rng(1)
    x = rng.random((100, 784))
    t = np.eye(10)[rng.integers(0, 10, 100)]
    return TwoLayerNet(784, 50, 10), x, t


def test_a_clean_two_layer_network_costs_one_gradient_call_and_3_forward_evaluations(mnist_shaped):
    net, x, t = mnist_shaped
    CALLS.clear()
    report = bd.check_network(net, x, t)
    assert report.ok and report.findings == []
    assert report.extras["forward_evaluations"] == 3
    assert CALLS["gradient"] == 1
    # the one inside `gradient`, which is the network's first loss (`NetworkAdapter.first_forward`),
    # and two forward differences (through the parameters and the input at once)
    assert CALLS["loss"] == 3
    # the first (widest) layer: no call of its own (the network's check settles it, and its
    # contracts are read from its calls in `gradient`: `api._network_first`); the network's three
    # losses. One backward, in `gradient` (watched: it leaves nothing a second call would read,
    # `carryover`), whose dx is the input's gradient the forward differences compare.
    assert CALLS["Affine1.forward"] == 3
    assert CALLS["Affine1.backward"] == 1


def test_every_layer_and_the_network_are_settled_by_two_forward_differences(mnist_shaped):
    net, x, t = mnist_shaped
    report = bd.check_network(net, x, t)
    verdicts = {(m.layer, m.verdict) for m in report.measurements}
    # every later layer's dx reaches W1, and its parameters are the network's; the first layer's
    # dx is the gradient of the network's input, which the forward differences move too: the
    # network's clean check settles them all
    assert verdicts == {
        ("Affine1", "ok (network)"),
        ("Relu1", "ok (network)"),
        ("Affine2", "ok (network)"),
        ("SoftmaxWithLoss", "ok (network)"),
        ("TwoLayerNet", "ok"),
    }
    # the network: its first loss (inside `gradient`) and two forward differences; no layer's own
    assert report.extras["forward_evaluations"] == 1 + 2


def test_a_network_that_adds_into_its_gradients_costs_a_second_gradient_call_and_is_reported(mnist_shaped):
    net, x, t = mnist_shaped
    totals = {k: np.zeros_like(v) for k, v in net.params.items()}
    plain = net.gradient

    def accumulating(x, t):
        for k, g in plain(x, t).items():
            totals[k] += g
        return totals

    net.gradient = accumulating
    CALLS.clear()
    report = bd.check_network(net, x, t)
    assert CALLS["gradient"] >= 2
    assert "nonreentrant-backward" in [f.name for f in report.findings]


def test_a_clean_network_is_copied_once_and_none_of_its_layers_on_its_own(mnist_shaped, monkeypatch):
    # the network's working copy is all a clean check copies: a layer whose own check is needed
    # (its dx not compared through the input, a backward that writes into its dout) is copied then,
    # from the caller's layer as the check found it, and a clean network has none
    # (a working copy is made by `copied`, a layer's by `copy.deepcopy`: both are counted)
    import copy

    from backprop_doctor.conventions import _base

    net, x, t = mnist_shaped
    copied, depth = [], [0]

    def counting(make):
        def counted(obj, *args, **kwargs):
            if depth[0] == 0:
                copied.append(type(obj).__name__)
            depth[0] += 1
            try:
                return make(obj, *args, **kwargs)
            finally:
                depth[0] -= 1

        return counted

    monkeypatch.setattr(copy, "deepcopy", counting(copy.deepcopy))
    monkeypatch.setattr(_base, "copied", counting(_base.copied))
    report = bd.check_network(net, x, t)
    assert report.ok and report.findings == []
    assert copied == ["TwoLayerNet"]
