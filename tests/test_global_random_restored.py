"""NumPy's global random state after a check is the caller's, to the last cached Gaussian
(`global_random` keeps it as the bytes of its MT19937 key, not through get_state)."""

from __future__ import annotations

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import global_random


class NoisyAffine:
    """An Affine layer whose forward draws Gaussian noise (an odd number of values, so the
    legacy stream is left holding a cached Gaussian), as a student's noise layer would."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        noise = 1e-3 * np.random.randn(*x.shape[:1], 1)
        return x @ self.W + self.b + noise

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class NoisyNet:
    def __init__(self, rng):
        self.params = {"W1": 0.1 * rng.standard_normal((4, 3)), "b1": np.zeros(3)}
        self.layers = {"Affine1": NoisyAffine(self.params["W1"], self.params["b1"])}
        self.lastLayer = SoftmaxWithLoss()

    def loss(self, x, t):
        return self.lastLayer.forward(self.layers["Affine1"].forward(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers["Affine1"].backward(self.lastLayer.backward(1))
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _state_equal(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("pending_gaussian", [False, True])
@pytest.mark.parametrize("drawn", [0, 5, 700])
def test_check_network_leaves_the_global_stream_where_it_was(rng, pending_gaussian, drawn):
    net = NoisyNet(rng)
    x, t = rng.standard_normal((5, 4)), np.eye(3)[[0, 1, 2, 0, 1]]
    np.random.seed(7)
    np.random.random_sample(drawn)  # 700 draws pass the end of the key: it is generated anew
    if pending_gaussian:
        np.random.standard_normal()  # the second value of the pair is cached
    before = np.random.get_state()
    bd.check_network(net, x, t)
    after = np.random.get_state()
    assert _state_equal(after, before)
    assert after[3] == int(pending_gaussian)


def test_check_layer_leaves_a_cached_gaussian_cached(rng):
    layer = NoisyAffine(rng.standard_normal((4, 3)), np.zeros(3))
    np.random.seed(11)
    np.random.standard_normal()
    cached = np.random.get_state()[4]
    bd.check_layer(layer, rng.standard_normal((5, 4)))
    assert np.random.standard_normal() == cached


def test_another_bit_generator_is_saved_and_restored_through_its_state():
    original = np.random.mtrand._rand._bit_generator
    np.random.set_bit_generator(np.random.PCG64(5))
    try:
        before = np.random.get_state(legacy=False)
        saved = global_random.save()
        assert saved.words is None
        np.random.random_sample(3)
        global_random.restore(saved)
        assert np.random.get_state(legacy=False)["state"] == before["state"]
    finally:
        np.random.set_bit_generator(original)
