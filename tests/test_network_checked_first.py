"""A network whose layers' checks would all leave their probes to it is checked first, and its
layers' contracts are read from the one `gradient` call its check makes (`api._network_first`,
`conventions.networks.LayerCalls`): a clean network's layers make no call of their own.

Anything a layer's own check would report, or could see otherwise than that call (an input or a
dout written into, a backward that leaves state for a second call, a loss layer that ignores its
dout, a draw from the global random stream, a wrong gradient anywhere), leaves the network to be
checked layer by layer, afresh: the same findings, at the same lines, as a check that never tried
the network first.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from inprocess import line_of

import backprop_doctor as bd
from backprop_doctor import api

NETWORK = '''\
from collections import Counter, OrderedDict

import numpy as np

CALLS = Counter()


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = self.db = None

    def forward(self, x):
        CALLS[type(self).__name__ + ".forward"] += 1
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        CALLS[type(self).__name__ + ".backward"] += 1
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Accumulating(Affine):
    def backward(self, dout):
        grad = self.x.T @ dout
        if self.dW is None:
            self.dW = grad
        else:
            self.dW += grad
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class HalfWeights(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = 0.5 * self.dW
        return dx


class StaleBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.calls = getattr(self, "calls", 0) + 1
        self.db = dout.sum(axis=0) * self.calls
        return dx


class Relu:
    def forward(self, x):
        CALLS["Relu.forward"] += 1
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        CALLS["Relu.backward"] += 1
        return np.where(self.mask, 0.0, dout)


class HalfDx(Relu):
    def backward(self, dout):
        return 0.5 * np.where(self.mask, 0.0, dout)


class InPlace(Relu):
    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0
        return x


class DoutInPlace(Relu):
    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Dropout(Relu):
    def forward(self, x):
        self.mask = np.random.rand(*x.shape) < 0.5
        return np.where(self.mask, 0.0, x)


class SoftmaxWithLoss:
    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.t = t
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class DoutIgnored(SoftmaxWithLoss):
    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self, middle=Relu, second=Affine, last=SoftmaxWithLoss, own_bias=False):
        self.own_bias = own_bias  # the last bias's gradient computed here, not read from its layer
        rng = np.random.default_rng(0)
        self.params = {"W1": rng.standard_normal((6, 5)), "b1": np.zeros(5), "W2": rng.standard_normal((5, 3)), "b2": np.zeros(3)}
        self.layers = OrderedDict(
            Affine1=Affine(self.params["W1"], self.params["b1"]),
            Middle=middle(),
            Affine2=second(self.params["W2"], self.params["b2"]),
        )
        self.lastLayer = last()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        reaching = {}
        for key, layer in reversed(list(self.layers.items())):
            reaching[key] = dout
            dout = layer.backward(dout)
        grads = {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db, "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}
        if self.own_bias:
            grads["b2"] = reaching["Affine2"].sum(axis=0)
        return grads
'''


@pytest.fixture
def user(tmp_path):
    """The user's network module, written to a file and imported (its lines are real lines)."""
    path = tmp_path / "network.py"
    path.write_text(NETWORK, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("network_checked_first", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.path = path
    return module


def batch():
    rng = np.random.default_rng(1)
    return rng.standard_normal((8, 6)), np.eye(3)[rng.integers(0, 3, 8)]


def seen(report):
    """Everything a report says but its cost."""
    return (
        [(f.name, f.severity, f.layer, f.param, f.line, f.message) for f in report.findings],
        [(m.layer, m.param, m.relative_error, m.verdict) for m in report.measurements],
        [(b.what, b.how, b.shapes) for b in report.built],
    )


def layer_by_layer(monkeypatch, net, x, t):
    """The report of a check that never tries the network first."""
    with monkeypatch.context() as patched:
        patched.setattr(api, "_network_first", lambda *args: (0, None))
        return bd.check_network(net, x, t)


def test_a_clean_networks_layers_make_no_call_of_their_own(user, monkeypatch):
    x, t = batch()
    user.CALLS.clear()
    report = bd.check_network(user.Net(), x, t)
    assert report.ok and report.findings == []
    # the network's three losses (inside `gradient`, two forward differences) and `gradient`'s backward,
    # each small layer's made twice there (as its own check makes it: re-entrancy) and no other call
    assert dict(user.CALLS) == {"Affine.forward": 2 * 3, "Relu.forward": 3, "Affine.backward": 2 * 2, "Relu.backward": 2}
    assert report.extras["forward_evaluations"] == 1 + 2
    assert {m.verdict for m in report.measurements if m.layer != "Net"} == {"ok (network)"}
    assert seen(report) == seen(layer_by_layer(monkeypatch, user.Net(), x, t))


@pytest.mark.parametrize(
    ("parts", "name", "statement"),
    [
        ({"middle": "InPlace"}, "input-mutated", "x[self.mask] = 0"),
        ({"middle": "DoutInPlace"}, "upstream-grad-mutated", "dout[self.mask] = 0"),
        ({"second": "Accumulating"}, "nonreentrant-backward", "self.dW += grad"),
        ({"last": "DoutIgnored"}, "upstream-grad-ignored", None),
        ({"middle": "HalfDx"}, "gradient-mismatch", "return 0.5 * np.where(self.mask, 0.0, dout)"),
        ({"second": "HalfWeights"}, "gradient-mismatch", "self.dW = 0.5 * self.dW"),
    ],
    ids=["input written", "dout written", "not re-entrant", "dout ignored", "wrong dx", "wrong dW"],
)
def test_what_a_layers_own_check_finds_is_found_and_named_as_before(user, monkeypatch, parts, name, statement):
    x, t = batch()
    given = x.copy()
    make = lambda: user.Net(**{k: getattr(user, v) for k, v in parts.items()})  # noqa: E731
    report = bd.check_network(make(), x, t)
    (layer,) = parts.values()  # named by its class: its key (`Middle`, `Affine2`, `lastLayer`) does not name it
    found = next(f for f in report.findings if (f.name, f.layer) == (name, layer))
    if statement is not None:
        assert found.line == line_of(user.path, statement)
    assert seen(report) == seen(layer_by_layer(monkeypatch, make(), x, t))
    assert x.tobytes() == given.tobytes() and x.flags.writeable


def test_a_layer_that_draws_random_numbers_leaves_the_network_to_be_checked_layer_by_layer(user, monkeypatch):
    # each layer's own check reseeds the global stream before its forward, the network's `gradient`
    # once: a draw inside it is not what the layer's own check would see
    x, t = batch()
    report = bd.check_network(user.Net(middle=user.Dropout), x, t)
    assert seen(report) == seen(layer_by_layer(monkeypatch, user.Net(middle=user.Dropout), x, t))
    assert report.extras["forward_evaluations"] > 1 + 2


def test_a_small_layer_whose_second_backward_differs_where_the_network_does_not_look_is_reported(user, monkeypatch):
    # the network computes the last bias's gradient itself, so the layer's own `db`, right only on
    # its first call, never reaches the network's gradient; the layer's own check calls a small
    # layer's backward twice, and so does the reading of the network's call
    x, t = batch()
    make = lambda: user.Net(second=user.StaleBias, own_bias=True)  # noqa: E731
    report = bd.check_network(make(), x, t)
    found = next(f for f in report.findings if (f.name, f.layer) == ("nonreentrant-backward", "StaleBias"))
    assert found.line == line_of(user.path, "class StaleBias(Affine):") + 1  # its backward (no `+=` to point at)
    assert seen(report) == seen(layer_by_layer(monkeypatch, make(), x, t))


def test_a_loss_layer_that_ignores_its_dout_is_noted_with_no_call_of_its_own(user, monkeypatch):
    # the book's own SoftmaxWithLoss: `dx = (self.y - self.t) / batch_size`, right for the dout of 1
    # a network sends it; its own check notes it (an info), and so does the reading of the network's
    # call, which still settles every layer by the network's two forward differences
    x, t = batch()
    report = bd.check_network(user.Net(last=user.DoutIgnored), x, t)
    assert [(f.name, f.severity, f.layer) for f in report.findings] == [("upstream-grad-ignored", "info", "DoutIgnored")]
    assert report.extras["forward_evaluations"] == 1 + 2
    assert seen(report) == seen(layer_by_layer(monkeypatch, user.Net(last=user.DoutIgnored), x, t))


def test_a_relu_that_writes_into_its_dout_is_noted_and_settled_by_the_network(user, monkeypatch):
    # the book's Relu (`dout[self.mask] = 0; dx = dout`): its gradient is right, and the array it
    # changes is the one it hands back; its own check notes that (an info), and its rows, like the
    # other layers', are settled by the network's two forward differences, as the layer-by-layer
    # check leaves them
    x, t = batch()
    report = bd.check_network(user.Net(middle=user.DoutInPlace), x, t)
    assert [(f.name, f.severity, f.layer) for f in report.findings] == [("upstream-grad-mutated", "info", "DoutInPlace")]
    assert {m.verdict for m in report.measurements if m.layer != "Net"} == {"ok (network)"}
    before = layer_by_layer(monkeypatch, user.Net(middle=user.DoutInPlace), x, t)
    assert seen(report) == seen(before)
    assert report.extras["forward_evaluations"] < before.extras["forward_evaluations"]
