"""A large layer's first backward is watched instead of being called a second time.

Re-entrancy asks that two backward calls with the same dout give the same gradients. A
layer of at least `carryover.WATCHED_SIZE` elements gets one call, watched: it is called a
second time only when that call left something behind a second call would read. Every way
of carrying state is still reported as `nonreentrant-backward`; a clean layer costs one
backward.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import carryover

CALLS: Counter = Counter()
TOTAL = 0  # a module global that one backward below counts its calls in


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        CALLS[type(self).__name__] += 1
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class StartsWithZeroGradients(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)


class WritesIntoItsBuffers(StartsWithZeroGradients):
    def backward(self, dout):
        CALLS[type(self).__name__] += 1
        self.dW[...] = self.x.T @ dout
        self.db[...] = dout.sum(axis=0)
        return dout @ self.W.T


class AccumulatesInPlace(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.grad_W = np.zeros_like(W)

    def backward(self, dout):
        CALLS[type(self).__name__] += 1
        self.grad_W += self.x.T @ dout
        self.dW = self.grad_W
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class AccumulatesFromNone(Affine):
    def backward(self, dout):
        CALLS[type(self).__name__] += 1
        g = self.x.T @ dout
        self.dW = g if self.dW is None else self.dW + g
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class DrawsInBackward(Affine):
    def backward(self, dout):
        keep = np.random.rand(*dout.shape) > 0.5
        return super().backward(dout * keep)


class DrawsFromItsGenerator(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.draw = np.random.default_rng(0).random  # a generator's bound method: its state moves

    def backward(self, dout):
        return super().backward(dout * (self.draw(dout.shape) > 0.5))


class CountsInAList(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.seen = []

    def backward(self, dout):
        self.seen.append(1)
        return super().backward(dout * len(self.seen))


class CountsInAModuleGlobal(Affine):
    def backward(self, dout):
        global TOTAL
        TOTAL += 1
        return super().backward(dout * TOTAL)


class CountsOnItsClass(Affine):
    calls = 0

    def backward(self, dout):
        type(self).calls += 1
        return super().backward(dout * type(self).calls)


class SoftmaxWithLossEditingItsCache:
    def forward(self, x, t):
        self.t = t
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.log(self.y[np.arange(len(t)), t]).mean()

    def backward(self, dout=1):
        dx = self.y  # not a copy: the cache itself is edited
        dx[np.arange(len(self.t)), self.t] -= 1
        return dout * dx / len(self.t)


def large(cls):
    rng = np.random.default_rng(0)
    return cls(0.1 * rng.standard_normal((400, 50)), np.zeros(50)), rng.standard_normal((60, 400))


def names(report):
    return [f.name for f in report.findings]


def test_a_clean_large_layer_gets_one_backward_and_is_left_as_it_was():
    layer, x = large(Affine)
    assert layer.W.size + x.size >= carryover.WATCHED_SIZE
    CALLS.clear()
    report = bd.check_layer(layer, x)
    assert report.findings == [] and {m.verdict for m in report.measurements} == {"ok"}
    assert CALLS["Affine"] == 1
    assert type(layer) is Affine and layer.W.flags.writeable  # the check's copy is watched, not this one


def test_a_small_layer_is_still_called_twice():
    rng = np.random.default_rng(0)
    CALLS.clear()
    assert bd.check_layer(Affine(rng.standard_normal((4, 3)), np.zeros(3)), rng.standard_normal((5, 4))).findings == []
    assert CALLS["Affine"] == 2


@pytest.mark.parametrize(
    "cls",
    [
        AccumulatesInPlace,
        AccumulatesFromNone,
        DrawsInBackward,
        DrawsFromItsGenerator,
        CountsInAList,
        CountsInAModuleGlobal,
        CountsOnItsClass,
    ],
)
def test_a_large_layer_that_carries_state_between_calls_is_reported(cls):
    layer, x = large(cls)
    assert "nonreentrant-backward" in names(bd.check_layer(layer, x))


def test_gradients_that_replace_zeros_from_the_constructor_need_one_backward():
    layer, x = large(StartsWithZeroGradients)
    CALLS.clear()
    assert bd.check_layer(layer, x).findings == []
    assert CALLS["StartsWithZeroGradients"] == 1


def test_a_layer_that_writes_into_its_own_buffers_is_checked_again_without_the_watch():
    layer, x = large(WritesIntoItsBuffers)
    CALLS.clear()
    assert bd.check_layer(layer, x).findings == []  # writing in place is allowed: the same values each call
    assert CALLS["WritesIntoItsBuffers"] >= 3  # the watched call stopped at its write, then two calls


def test_a_large_loss_layer_that_edits_its_cache_is_warned_about():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((200, 100)), rng.integers(0, 100, 200)
    report = bd.check_layer(SoftmaxWithLossEditingItsCache(), x, t)
    (finding,) = [f for f in report.findings if f.name == "nonreentrant-backward"]
    assert finding.severity == "warning" and "changes its cached forward values" in finding.message
