"""The engine holds the first backward's gradients by reference, reads directions from a pool
and restores perturbed arrays from the caller's own: the findings stay those of a check that
copied everything, and a wide network is checked in a few times its parameters' memory."""

from __future__ import annotations

import sys
import tracemalloc
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import gradcheck

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import nets  # noqa: E402


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class AccumulatingAffine(Affine):
    def backward(self, dout):
        self.dW += np.dot(self.x.T, dout)  # forgets to reset: the second call doubles it
        self.db += np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class ZeroThenAddAffine(Affine):
    def backward(self, dout):
        self.dW[...] = 0
        self.db[...] = 0
        self.dW += np.dot(self.x.T, dout)
        self.db += np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class ForwardZeroesGradients(Affine):
    def forward(self, x):
        self.dW[...] = 0  # "zero_grad" at the start of every forward
        self.db[...] = 0
        return super().forward(x)


@pytest.fixture
def inputs():
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal((5, 6))


def names(report):
    return sorted(f.name for f in report.findings)


def test_an_accumulating_backward_is_reported_as_nonreentrant_and_its_first_gradient_is_still_right(inputs):
    W, b, x = inputs
    report = bd.check_layer(AccumulatingAffine(W.copy(), b.copy()), x)
    assert names(report) == ["nonreentrant-backward"]
    assert all(m.verdict == "ok" for m in report.measurements)


@pytest.mark.parametrize("cls", [ZeroThenAddAffine, ForwardZeroesGradients])
def test_layers_that_write_into_their_own_gradient_arrays_are_clean_when_correct(cls, inputs):
    W, b, x = inputs
    report = bd.check_layer(cls(W.copy(), b.copy()), x)
    assert names(report) == []
    assert {m.param for m in report.measurements} == {"x", "W", "b"}
    assert all(m.verdict == "ok" and m.relative_error < 1e-7 for m in report.measurements)


def test_a_wrong_gradient_written_in_place_is_still_found(inputs):
    class HalfGradient(ZeroThenAddAffine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.dW *= 0.5
            return dx

    W, b, x = inputs
    report = bd.check_layer(HalfGradient(W.copy(), b.copy()), x)
    wrong = [f for f in report.findings if f.name == "gradient-mismatch"]
    assert [f.param for f in wrong] == ["W"]
    assert wrong[0].pattern == "scaled"


def test_user_arrays_stay_bit_identical_and_writable_after_a_network_check():
    net, x, t = nets.two_layer_net(hidden=20, batch=8)
    before = {k: v.copy() for k, v in net.params.items()}
    report = bd.check_network(net, x, t)
    assert report.ok, [f.message for f in report.findings]
    for k, v in net.params.items():
        assert v.tobytes() == before[k].tobytes() and v.flags.writeable


def test_a_layer_that_rescales_its_weights_in_forward_leaves_the_caller_untouched():
    class MaxNormAffine(Affine):
        def forward(self, x):
            np.clip(self.W, -0.05, 0.05, out=self.W)  # a max-norm constraint applied in place
            return super().forward(x)

    class Net:
        def __init__(self):
            rng = np.random.default_rng(3)
            self.params = {"W1": 0.1 * rng.standard_normal((5, 4)), "b1": np.zeros(4)}
            self.layers = OrderedDict(Affine1=MaxNormAffine(self.params["W1"], self.params["b1"]))
            self.lastLayer = nets.SoftmaxWithLoss()

        def loss(self, x, t):
            return self.lastLayer.forward(self.layers["Affine1"].forward(x), t)

        def gradient(self, x, t):
            self.loss(x, t)
            self.layers["Affine1"].backward(self.lastLayer.backward(1))
            return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db}

    net = Net()
    before = net.params["W1"].copy()
    x = np.random.default_rng(4).standard_normal((6, 5))
    t = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    bd.check_network(net, x, t)
    assert net.params["W1"].tobytes() == before.tobytes()


def peak_over_parameters(net, x, t):
    """The network's check and its peak traced memory as a multiple of the parameters' bytes."""
    param_bytes = sum(p.nbytes for p in net.params.values())
    bd.check_network(net, x[:2], t[:2])  # imports and first-use caches outside the measurement
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        report = bd.check_network(net, x, t)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, (peak - base) / param_bytes


def test_a_wide_network_is_checked_in_less_than_four_times_its_parameters_memory():
    report, peak = peak_over_parameters(*nets.two_layer_net(hidden=1000, batch=100))
    assert report.ok
    assert peak < 4.0


def test_a_pool_direction_reads_the_same_numbers_every_time_and_spans_its_scale():
    rng = np.random.default_rng(5)
    for shape in [(7, 3), (300, 400)]:  # one window, and blocks of windows
        d = gradcheck.Direction(shape, rng, 0.25)
        v = d.array()
        assert v.shape == shape and np.array_equal(v, d.array())
        assert -0.25 <= v.min() < -0.2 and 0.2 < v.max() < 0.25
        g = rng.standard_normal(shape)
        dot, sq = d.dot(g)
        assert dot == pytest.approx(float(np.vdot(g, v))) and sq == pytest.approx(float(np.vdot(v, v)))
        out, base = np.empty(shape), rng.standard_normal(shape)
        d.step(out, base, 1e-3)
        assert np.allclose(out, base + 1e-3 * v, rtol=0, atol=1e-15)


def test_two_directions_through_the_same_array_differ():
    rng = np.random.default_rng(6)
    a, b = gradcheck.Direction((50, 50), rng).array(), gradcheck.Direction((50, 50), rng).array()
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.1


def test_what_the_layers_kept_from_the_users_own_call_is_not_copied_again_for_their_checks():
    # after the user's own `gradient`, Affine1 holds its batch and a gradient of W1's size: the
    # network's working copy shares them (read-only) rather than copying them, and so does each
    # layer's check: the peak is the one of a network that never ran
    net, x, t = nets.two_layer_net(hidden=1000, batch=100)
    net.gradient(x, t)
    kept = {k: v.copy() for k, v in vars(net.layers["Affine1"]).items() if isinstance(v, np.ndarray)}
    report, peak = peak_over_parameters(net, x, t)
    assert report.ok
    assert peak < 3.0  # 4.1 when the working copy copied them, 5.4 when each layer's check did too
    _, fresh = peak_over_parameters(*nets.two_layer_net(hidden=1000, batch=100))
    assert peak < 1.01 * fresh
    for k, v in vars(net.layers["Affine1"]).items():
        if k in kept:
            assert v.tobytes() == kept[k].tobytes() and v.flags.writeable


def test_a_layer_that_writes_into_the_batch_it_kept_leaves_the_caller_and_the_network_check_as_they_were():
    class IntoItsBatch(Affine):
        def forward(self, x):
            if getattr(self, "x", None) is not None and self.x.shape == x.shape:
                self.x[...] = x  # reuses the array it kept from the call before
                return np.dot(self.x, self.W) + self.b
            return super().forward(x.copy())

    net, x, t = nets.two_layer_net(hidden=20, batch=8)
    plain = bd.check_network(net, x, t)
    net.layers["Affine1"] = IntoItsBatch(net.params["W1"], net.params["b1"])
    net.loss(x, t)  # the layer now keeps a batch
    kept = net.layers["Affine1"].x.copy()
    report = bd.check_network(net, x, t)
    assert report.findings == [] and plain.findings == []
    assert net.layers["Affine1"].x.tobytes() == kept.tobytes()


def test_the_working_copy_shares_read_only_what_the_probes_never_move_and_hands_it_back_writable():
    from backprop_doctor.conventions import isolated_sharing

    class Layer:
        def __init__(self, dtype):
            self.W = np.ones((3, 2), dtype=dtype)
            self.W_T = self.W.T  # a view of a parameter: copied with it, still its view
            self.x = np.arange(6.0, dtype=dtype).reshape(2, 3)  # kept from the last call
            self.x_rows = self.x[0]  # a view of the kept batch: shared with it

    layer = Layer(np.float64)
    with isolated_sharing(layer, lambda given: [given.W]) as (work, dtypes, shared):
        assert work is not layer and dtypes == {"float64"}
        assert work.W is not layer.W and np.shares_memory(work.W_T, work.W) and not np.shares_memory(work.W, layer.W)
        assert work.x is layer.x and work.x_rows is layer.x_rows and set(shared) == {id(layer.x), id(layer.x_rows)}
        assert not layer.x.flags.writeable and not layer.x_rows.flags.writeable and work.W.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            work.x[0, 0] = 1.0
    assert layer.x.flags.writeable and layer.x_rows.flags.writeable
    assert np.array_equal(layer.x, np.arange(6.0).reshape(2, 3))

    single = Layer(np.float32)  # a float64 copy is made of everything: nothing shared
    with isolated_sharing(single, lambda given: [given.W]) as (work, dtypes, shared):
        assert shared == {} and dtypes == {"float32"} and work.x is not single.x and work.x.dtype == np.float64
