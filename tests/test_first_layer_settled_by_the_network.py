"""The first layer of a network is settled by the network's own check when that check is clean.

The first layer's dx is the gradient of the loss with respect to the network's input: the dx
its backward returns inside the network's one `gradient` call is kept (`Network.input_gradient`),
and the network's two forward differences move the input along with the parameters,
f(θ + h·v, x + h·u) - f0 against h·(g·v + dx·u). Its own check then makes no probe: its rows
read "ok (network)". Anything else (a wrong dx, a first layer that writes into its input or is
not re-entrant, a network that hands its first layer something other than its input) gets the
first layer's own check made again, whole: the findings of a check that never deferred it.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import backprop_doctor as bd

NETWORK = '''\
from collections import OrderedDict

import numpy as np

from counting import CALLS


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


class HalfDx(Affine):
    def backward(self, dout):
        return 0.5 * super().backward(dout)  # the wrong dx of the first layer


class Centring(Affine):
    def forward(self, x):
        x -= x.mean(axis=0)  # centres the network's batch in place
        return super().forward(x)


class Accumulating(Affine):
    def backward(self, dout):
        grad = self.x.T @ dout
        if self.dW is None:
            self.dW = grad
        else:
            self.dW += grad  # adds every call's gradient to the last one's
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class RowSumDx(Affine):
    def backward(self, dout):
        return super().backward(dout) + dout.sum(axis=1, keepdims=True)  # wrong only along the rows' sums


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.t = t
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    def __init__(self, first=Affine, hidden=5, copy_input=False, inputs=6):
        rng = np.random.default_rng(0)
        width = hidden or 3
        self.params = {"W1": 0.3 * rng.standard_normal((inputs, width)), "b1": np.zeros(width)}
        self.layers = OrderedDict(Affine1=first(self.params["W1"], self.params["b1"]))
        if hidden:
            self.params.update(W2=0.3 * rng.standard_normal((hidden, 3)), b2=np.zeros(3))
            self.layers["Relu1"] = Relu()
            self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()
        self.copy_input = copy_input

    def loss(self, x, t):
        CALLS["loss"] += 1
        if self.copy_input:
            x = x.copy()
        for layer in self.layers.values():
            x = layer.forward(x)
        return self.lastLayer.forward(x, t)

    def gradient(self, x, t):
        CALLS["gradient"] += 1
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db}
        if "Affine2" in self.layers:
            grads.update(W2=self.layers["Affine2"].dW, b2=self.layers["Affine2"].db)
        return grads
'''


@pytest.fixture
def user(tmp_path, monkeypatch):
    """The user's network module, written to a file and imported (its lines are real lines)."""
    (tmp_path / "counting.py").write_text("from collections import Counter\n\nCALLS = Counter()\n", encoding="utf-8")
    path = tmp_path / "network.py"
    path.write_text(NETWORK, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.path = path
    yield module


def line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def batch(inputs=6):
    rng = np.random.default_rng(1)
    return rng.standard_normal((8, inputs)), np.eye(3)[rng.integers(0, 3, 8)]


def rows(report, layer):
    return {m.param: m.verdict for m in report.measurements if m.layer == layer}


def test_a_clean_networks_first_layer_is_settled_by_the_network_with_no_probe(user):
    import counting

    x, t = batch()
    given = x.copy()
    counting.CALLS.clear()
    report = bd.check_network(user.Net(), x, t)
    assert report.ok and report.findings == []
    assert rows(report, "Affine1") == {"x": "ok (network)", "W": "ok (network)", "b": "ok (network)"}
    # no layer's own calls (their contracts are read from `gradient`'s: `api._network_first`); the
    # network's first loss inside `gradient` and two forward differences through θ and x at once
    assert report.extras["forward_evaluations"] == 1 + 2
    assert dict(counting.CALLS) == {
        "gradient": 1,
        # one more than the check's three, on a copy, to record what each layer is fed (`conventions._feeds`)
        "loss": 1 + 1 + 2,
        # Affine1 and Affine2 alike: the network's three losses, the recording one
        "Affine.forward": 2 * (3 + 1),
        # each twice, in `gradient` (small layers: re-entrancy, as in their own checks)
        "Affine.backward": 2 * 2,
    }
    assert x.tobytes() == given.tobytes() and x.flags.writeable


def test_a_first_layer_whose_dx_is_wrong_is_found_at_its_line_as_its_own_check_finds_it(user):
    x, t = batch()
    report = bd.check_network(user.Net(first=user.HalfDx), x, t)
    (found,) = report.errors
    assert (found.name, found.layer, found.param, found.pattern) == ("gradient-mismatch", "HalfDx", "x", "scaled")
    assert found.line == line_of(user.path, "return 0.5 * super().backward(dout)")
    # the layer checked alone on the same batch finds the same thing in the same words
    params = user.Net().params
    (alone,) = bd.check_layer(user.HalfDx(params["W1"], params["b1"]), x).errors
    assert (found.message, found.line, found.measured) == (alone.message, alone.line, alone.measured)
    # its own probes ran: its rows are its own, not the network's
    assert rows(report, "HalfDx") == {"x": "mismatch", "W": "ok", "b": "ok"}
    assert {m.verdict for m in report.measurements if m.layer == "Net"} == {"ok"}


def test_a_first_layer_that_writes_into_its_input_is_reported_on_the_callers_values(user):
    x, t = batch()
    given = x.copy()
    report = bd.check_network(user.Net(first=user.Centring), x, t)
    (mutated,) = [f for f in report.findings if f.name == "input-mutated"]
    assert mutated.layer == "Centring" and mutated.line == line_of(user.path, "x -= x.mean(axis=0)")
    assert mutated.measured == x.size  # counted on the caller's batch, not on one the network's check centred
    assert "ok (network)" not in rows(report, "Centring").values()
    assert x.tobytes() == given.tobytes() and x.flags.writeable


@pytest.mark.parametrize("inputs", [6, 4000], ids=["called twice", "watched"])
def test_a_first_layer_whose_backward_is_not_reentrant_is_reported_and_checked_whole(user, inputs):
    # a small layer's backward is called twice; a large one's first call is watched (`carryover`),
    # and its write into the gradient it holds starts the check again without the watch
    x, t = batch(inputs)
    report = bd.check_network(user.Net(first=user.Accumulating, inputs=inputs), x, t)
    layers = {(f.name, f.layer) for f in report.findings}
    assert ("nonreentrant-backward", "Accumulating") in layers
    (own,) = [f for f in report.findings if f.name == "nonreentrant-backward" and f.layer == "Accumulating"]
    assert own.line == line_of(user.path, "self.dW += grad")
    assert set(rows(report, "Accumulating").values()) == {"ok"}  # its own probes, not the network's


def test_a_first_layer_checked_again_after_the_networks_passing_differences_is_checked_on_the_callers_values(user):
    # the network's forward differences pass and leave its weights and its batch moved (the
    # working copy is let go); the first layer, not settled, is checked again from a copy that
    # shares its weights: the same figures as a check of the layer alone on the caller's arrays
    x, t = batch()
    net = user.Net(first=user.Accumulating)
    given = {k: v.tobytes() for k, v in net.params.items()}
    report = bd.check_network(net, x, t)
    assert {m.verdict for m in report.measurements if m.layer == "Net"} == {"ok"}
    alone = bd.check_layer(user.Accumulating(net.params["W1"], net.params["b1"]), x)
    assert [(m.param, m.relative_error, m.verdict) for m in report.measurements if m.layer == "Accumulating"] == [
        (m.param, m.relative_error, m.verdict) for m in alone.measurements
    ]
    assert {k: v.tobytes() for k, v in net.params.items()} == given


def test_a_first_layer_the_network_does_not_hand_its_input_gets_its_own_probes(user):
    x, t = batch()
    report = bd.check_network(user.Net(copy_input=True), x, t)
    assert report.ok and report.findings == []
    assert rows(report, "Affine1") == {"x": "ok", "W": "ok", "b": "ok"}


def test_a_dx_wrong_only_along_the_rows_sums_is_found_before_a_softmax_with_loss(user):
    # softmax-with-loss right after the first layer sends rows that sum to zero: the network's
    # gradient cannot show this error, the layer's own upstream gradient does
    x, t = batch()
    report = bd.check_network(user.Net(first=user.RowSumDx, hidden=0), x, t)
    (found,) = report.errors
    assert (found.name, found.layer, found.param) == ("gradient-mismatch", "RowSumDx", "x")
    assert found.line == line_of(user.path, "return super().backward(dout) + dout.sum(")


@pytest.mark.parametrize("inputs", [6, 4000], ids=["the whole batch", "a block of rows"])
def test_the_first_layers_dx_is_settled_through_the_rows_the_forward_differences_move(user, inputs, monkeypatch):
    # a batch of more than `engine.INPUT_ELEMENTS` numbers is moved a block of rows at a time
    # (`engine._input_rows`): its first layer is still settled by the network with no evaluation of
    # its own, a wrong dx is still found at its line, and the caller's batch is left as it was
    from backprop_doctor import engine

    moved = []
    blocks = engine._input_rows
    monkeypatch.setattr(engine, "_input_rows", lambda x, rng: moved.append(blocks(x, rng)) or moved[-1])
    x, t = batch(inputs)
    given = x.copy()
    clean = bd.check_network(user.Net(inputs=inputs), x, t)
    assert clean.ok and clean.findings == []
    assert rows(clean, "Affine1") == {"x": "ok (network)", "W": "ok (network)", "b": "ok (network)"}
    assert clean.extras["forward_evaluations"] == 1 + 2
    if inputs == 4000:  # 32,000 numbers: two of its eight rows at a time
        assert [(s.stop - s.start) for s in moved] == [engine.INPUT_ELEMENTS // inputs]
    else:
        assert moved == [None]
    wrong = bd.check_network(user.Net(first=user.HalfDx, inputs=inputs), x, t)
    (found,) = wrong.errors
    assert (found.name, found.layer, found.param, found.pattern) == ("gradient-mismatch", "HalfDx", "x", "scaled")
    assert found.line == line_of(user.path, "return 0.5 * super().backward(dout)")
    assert x.tobytes() == given.tobytes() and x.flags.writeable
