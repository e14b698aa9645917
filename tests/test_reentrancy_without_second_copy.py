"""The second backward of the re-entrancy contract, made without holding two gradients at once.

A layer that assigns its gradient (`self.dW = x.T @ dout`) gets its first gradient let go
before the second backward (a stand-in of NaNs in its place); a network whose layers were
each checked gets no second `gradient` call at all unless state could carry over between
calls. Whatever a backward does with its previous gradient, the verdict stays the one a
check that held both calls' arrays gives.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import nets  # noqa: E402

# 300 × 300 weights: above engine.STAND_IN_SIZE, so the stand-in path is the one taken
SIDE = 300


class Dense:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class RebindingSum(Dense):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)

    def backward(self, dout):
        self.dW = self.dW + self.x.T @ dout  # a new array each call, but the old values added in
        self.db = self.db + dout.sum(axis=0)
        return dout @ self.W.T


class LazyAccumulator(Dense):
    def backward(self, dout):
        if self.dW is None:
            self.dW = np.zeros_like(self.W)
            self.db = np.zeros_like(self.b)
        self.dW += self.x.T @ dout  # never reset: the second call doubles it
        self.db += dout.sum(axis=0)
        return dout @ self.W.T


class LazyZeroed(Dense):
    def backward(self, dout):
        if self.dW is None:
            self.dW = np.zeros_like(self.W)
            self.db = np.zeros_like(self.b)
        self.dW.fill(0.0)  # reset, then accumulate: correct on every call
        self.db.fill(0.0)
        self.dW += self.x.T @ dout
        self.db += dout.sum(axis=0)
        return dout @ self.W.T


@pytest.fixture
def weights():
    rng = np.random.default_rng(11)
    W = rng.standard_normal((SIDE, SIDE)) / np.sqrt(SIDE)
    b = 0.1 * rng.standard_normal(SIDE)
    x = rng.standard_normal((4, SIDE))
    assert W.size >= engine.STAND_IN_SIZE
    return W, b, x


def names(report):
    return sorted(f.name for f in report.findings)


def test_an_assigning_layer_is_clean_and_its_arrays_stay_bit_identical(weights):
    W, b, x = weights
    layer = Dense(W.copy(), b.copy())
    report = bd.check_layer(layer, x)
    assert names(report) == []
    assert {m.param for m in report.measurements} == {"x", "W", "b"}
    assert all(m.verdict == "ok" for m in report.measurements)
    assert layer.W.tobytes() == W.tobytes() and layer.b.tobytes() == b.tobytes()
    assert layer.dW is None  # the check worked on a copy of the layer


@pytest.mark.parametrize("cls", [RebindingSum, LazyAccumulator])
def test_a_backward_that_adds_its_previous_gradient_in_is_nonreentrant_and_its_first_gradient_right(cls, weights):
    W, b, x = weights
    report = bd.check_layer(cls(W.copy(), b.copy()), x)
    assert names(report) == ["nonreentrant-backward"]
    (finding,) = report.findings
    assert finding.severity == "error"
    # the first call's gradient (kept in float32 while the second ran) is the one compared
    assert all(m.verdict == "ok" for m in report.measurements), [(m.param, m.relative_error) for m in report.measurements]


def test_a_backward_that_resets_its_own_buffer_before_accumulating_is_clean(weights):
    W, b, x = weights
    report = bd.check_layer(LazyZeroed(W.copy(), b.copy()), x)
    assert names(report) == []
    assert all(m.verdict == "ok" and m.relative_error < 1e-6 for m in report.measurements)


def test_a_wrong_large_gradient_is_still_found_with_its_pattern(weights):
    class HalfDW(Dense):
        def backward(self, dout):
            dx = super().backward(dout)
            self.dW = 0.5 * self.dW
            return dx

    W, b, x = weights
    report = bd.check_layer(HalfDW(W.copy(), b.copy()), x)
    wrong = [f for f in report.findings if f.name == "gradient-mismatch"]
    assert [f.param for f in wrong] == ["W"]
    assert wrong[0].pattern == "scaled"


# -- networks ------------------------------------------------------------------------------


class CountingNet:
    """The book's two-layer net with its `gradient` calls counted."""

    def __init__(self, accumulate=False, counter_changes_gradient=False):
        rng = np.random.default_rng(5)
        self.params = {"W1": 0.1 * rng.standard_normal((8, 6)), "b1": np.zeros(6), "W2": 0.1 * rng.standard_normal((6, 3)), "b2": np.zeros(3)}
        self.layers = OrderedDict()
        self.layers["Affine1"] = nets.Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = nets.Relu()
        self.layers["Affine2"] = nets.Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = nets.SoftmaxWithLoss()
        self.accumulate = accumulate
        self.counter_changes_gradient = counter_changes_gradient
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.calls = 0

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        if self.counter_changes_gradient:
            self.calls += 1
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        fresh = {
            "W1": self.layers["Affine1"].dW,
            "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW,
            "b2": self.layers["Affine2"].db,
        }
        if self.accumulate:  # the network's own grads dict, added into and never reset
            for k, g in fresh.items():
                self.grads[k] += g
            return self.grads
        if self.counter_changes_gradient and self.calls > 1:
            fresh["W2"] = fresh["W2"] * 2  # a schedule keyed on the call count
        return fresh


@pytest.fixture
def batch():
    rng = np.random.default_rng(6)
    return rng.standard_normal((5, 8)), np.eye(3)[[0, 1, 2, 0, 1]]


def test_a_clean_network_gets_one_gradient_call_and_the_same_clean_report(batch):
    report = bd.check_network(CountingNet(), *batch)
    assert report.ok and names(report) == []
    calls = []
    original = CountingNet.gradient

    def counted(self, x, t):
        calls.append(1)
        return original(self, x, t)

    CountingNet.gradient = counted
    try:
        bd.check_network(CountingNet(), *batch)
    finally:
        CountingNet.gradient = original
    assert len(calls) == 1


def test_a_network_adding_into_its_own_grads_dict_is_still_called_twice_and_reported(batch):
    report = bd.check_network(CountingNet(accumulate=True), *batch)
    found = [f for f in report.findings if f.name == "nonreentrant-backward"]
    assert [f.layer for f in found] == ["CountingNet"]


def test_a_network_whose_call_counter_changes_its_gradient_is_reported(batch):
    report = bd.check_network(CountingNet(counter_changes_gradient=True), *batch)
    found = [f for f in report.findings if f.name == "nonreentrant-backward"]
    assert [f.layer for f in found] == ["CountingNet"]


def test_a_network_over_an_accumulating_layer_is_reported_at_both_levels(batch):
    class AccumulatingAffine(nets.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.total = getattr(self, "total", 0) + self.dW  # a running sum handed out as the gradient
            self.dW = self.total
            return dx

    net = CountingNet()
    net.layers["Affine2"] = AccumulatingAffine(net.params["W2"], net.params["b2"])
    report = bd.check_network(net, *batch)
    layers = sorted(f.layer for f in report.findings if f.name == "nonreentrant-backward")
    assert layers == ["AccumulatingAffine", "CountingNet"]


def test_a_large_assigning_layer_is_checked_without_two_gradients_beside_its_weights():
    import tracemalloc

    rng = np.random.default_rng(12)
    W, b, x = rng.standard_normal((600, 600)), np.zeros(600), rng.standard_normal((4, 600))
    bd.check_layer(Dense(W[:5, :5].copy(), b[:5].copy()), x[:, :5])  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        report = bd.check_layer(Dense(W, b), x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    # the check's copy of W (1×), the first gradient in float32 (0.5×), the second (1×): about 2.5×;
    # holding both gradients beside the copy takes 3× and more
    assert (peak - base) / (W.nbytes + b.nbytes) < 2.8


GLOBAL_GRADS: dict = {}


def test_a_network_adding_into_a_module_level_dict_is_still_called_twice_and_reported(batch):
    class GlobalNet(CountingNet):
        def gradient(self, x, t):
            fresh = super().gradient(x, t)
            for k, g in fresh.items():
                if k not in GLOBAL_GRADS:
                    GLOBAL_GRADS[k] = np.zeros_like(g)
                GLOBAL_GRADS[k] += g  # a module-level running sum, handed out as the gradient
            return dict(GLOBAL_GRADS)

    GLOBAL_GRADS.clear()
    net = GlobalNet()
    net.gradient(*batch)  # the dict exists before the check, as after a first training step
    for g in GLOBAL_GRADS.values():
        g[...] = 0
    report = bd.check_network(net, *batch)
    found = [f for f in report.findings if f.name == "nonreentrant-backward"]
    assert [f.layer for f in found] == ["GlobalNet"]
