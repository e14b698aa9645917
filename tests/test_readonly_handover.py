"""The check hands its input and upstream gradient to user code read-only instead of copying them.

A layer that writes into either raises on the read-only array, and the check starts again from
copies: the findings are those of a check that copied everything, and every array the caller
passed stays bit-identical and writable.
"""

from __future__ import annotations

import numpy as np
import pytest

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


class CentringAffine(Affine):
    def forward(self, x):
        x -= x.mean(axis=0)  # centres the caller's batch in place
        return super().forward(x)


class ClippingRelu:
    def forward(self, x):
        self.mask = x <= 0
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, dout):
        dout[self.mask] = 0  # zeroes the caller's gradient in place
        return dout


class ForgetfulAffine(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.x[...] = 0  # frees its cache by zeroing the input it was given
        return dx


class CheckedAffine(Affine):
    def forward(self, x):
        assert x.flags.c_contiguous  # reads flags, writes nothing
        return super().forward(x)


@pytest.fixture
def data():
    rng = np.random.default_rng(21)
    return rng.standard_normal((5, 4)), 0.1 * rng.standard_normal(4), rng.standard_normal((6, 5))


def names(report):
    return sorted(f.name for f in report.findings)


def test_a_forward_that_writes_into_its_input_is_reported_and_the_callers_array_kept(data):
    W, b, x = data
    given = x.copy()
    report = bd.check_layer(CentringAffine(W.copy(), b.copy()), x)
    assert "input-mutated" in names(report)
    (mutated,) = [f for f in report.findings if f.name == "input-mutated"]
    assert mutated.measured == x.size  # every element moved: the count comes from a copy compared after the call
    assert x.tobytes() == given.tobytes() and x.flags.writeable


def test_a_backward_that_writes_into_dout_is_reported_once():
    x = np.random.default_rng(22).standard_normal((6, 7))
    report = bd.check_layer(ClippingRelu(), x)
    assert names(report).count("upstream-grad-mutated") == 1
    assert all(m.verdict == "ok" for m in report.measurements)


def test_a_backward_that_zeroes_its_cached_input_is_nonreentrant_not_a_crash(data):
    W, b, x = data
    report = bd.check_layer(ForgetfulAffine(W.copy(), b.copy()), x)
    assert names(report) == ["nonreentrant-backward"]
    assert {m.param: m.verdict for m in report.measurements} == {"x": "ok", "W": "ok", "b": "ok"}


def test_a_layer_that_only_reads_its_input_is_clean_in_three_forward_evaluations(data):
    W, b, x = data
    report = bd.check_layer(CheckedAffine(W.copy(), b.copy()), x)
    assert names(report) == []
    # the first forward and one probe (two evaluations): no second forward on a copy
    assert report.extras["forward_evaluations"] == 3


def test_a_network_check_leaves_the_callers_batch_and_weights_writable_and_bit_identical():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import nets

    net, x, t = nets.two_layer_net(hidden=12, batch=9)
    before = {k: v.tobytes() for k, v in net.params.items()}
    given = x.tobytes()
    report = bd.check_network(net, x, t)
    assert report.ok, [f.message for f in report.findings]
    assert x.tobytes() == given and x.flags.writeable
    for k, v in net.params.items():
        assert v.tobytes() == before[k] and v.flags.writeable


TIME_SOFTMAX_LOSS = '''\
import numpy as np


class TimeSoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, xs, ts):
        N, T, V = xs.shape
        xs = xs.reshape(N * T, V)
        ts = ts.reshape(N * T)
        e = np.exp(xs - xs.max(axis=1, keepdims=True))
        ys = e / e.sum(axis=1, keepdims=True)
        self.cache = (ts, ys, (N, T, V))
        return -np.sum(np.log(ys[np.arange(N * T), ts])) / (N * T)

    def backward(self, dout=1):
        ts, ys, (N, T, V) = self.cache
        dx = ys  # the cached probabilities themselves, written into on every call
        dx[np.arange(N * T), ts] -= 1
        dx *= dout / (N * T)
        return dx.reshape((N, T, V))  # a view of the cache
'''


def test_a_backward_that_returns_a_view_of_the_cache_it_writes_into_is_checked_on_its_first_values(tmp_path):
    # The first backward's dx is a view of `ys`; the second backward writes into `ys` again.
    # Held by reference, dx changed under the check (a false 1.16 relative error on the
    # DLFS-2 book's own TimeSoftmaxWithLoss): a view is copied, never held.
    import importlib.util

    import backprop_doctor as bd

    path = tmp_path / "time_loss.py"
    path.write_text(TIME_SOFTMAX_LOSS, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("time_loss", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((2, 3, 4))
    ts = rng.integers(0, 4, (2, 3))
    report = bd.check_layer(module.TimeSoftmaxWithLoss(), xs, ts)
    assert [f for f in report.findings if f.severity == "error"] == []
    assert {m.param for m in report.measurements} == {"x"}
