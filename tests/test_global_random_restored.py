"""NumPy's global random state after a check is the caller's, to the last cached Gaussian
(`global_random` keeps it as the bytes of its MT19937 key, not through get_state)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import global_random

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "two_layer_net_fixed.py"


@pytest.fixture
def book():
    """The bundled book network's module, with an Affine layer whose forward draws Gaussian
    noise (an odd number of values, so the legacy stream is left holding a cached Gaussian)."""
    spec = importlib.util.spec_from_file_location("sample_two_layer_net_fixed", SAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class NoisyAffine(module.Affine):
        def forward(self, x):
            return super().forward(x) + 1e-3 * np.random.randn(x.shape[0], 1)

    module.NoisyAffine = NoisyAffine
    return module


def noisy_net(book):
    np.random.seed(0)  # the sample draws its weights from the global stream
    net = book.TwoLayerNet(input_size=4, hidden_size=5, output_size=3, weight_init_std=0.3)
    net.layers["Affine1"] = book.NoisyAffine(net.params["W1"], net.params["b1"])
    return net


def _state_equal(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("pending_gaussian", [False, True])
@pytest.mark.parametrize("drawn", [0, 5, 700])
def test_check_network_leaves_the_global_stream_where_it_was(book, pending_gaussian, drawn):
    net = noisy_net(book)
    rng = np.random.default_rng(0)
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


def test_check_layer_leaves_a_cached_gaussian_cached(book):
    rng = np.random.default_rng(1)
    layer = book.NoisyAffine(rng.standard_normal((4, 3)), np.zeros(3))
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


def test_reseeding_gives_the_seeded_stream_whatever_was_drawn_or_cached_since():
    np.random.seed(3)
    expected = (np.random.standard_normal(), np.random.random_sample(4))
    for before in ("nothing", "draws", "a cached gaussian on the seeded key"):
        global_random.reseed(3)
        if before == "draws":
            np.random.random_sample(10)
            global_random.reseed(3)
        elif before == "a cached gaussian on the seeded key":
            name, key, position = np.random.get_state()[:3]
            np.random.set_state((name, key, position, 1, 123.0))  # the seeded words, a Gaussian cached
            global_random.reseed(3)
        got = (np.random.standard_normal(), np.random.random_sample(4))
        assert got[0] == expected[0] and np.array_equal(got[1], expected[1]), before


@pytest.mark.parametrize("fields", ["read in place", "found by a draw"])
@pytest.mark.parametrize("pending_gaussian", [False, True])
def test_saved_and_restored_with_and_without_reading_the_cached_gaussian_in_place(monkeypatch, fields, pending_gaussian):
    if fields == "found by a draw":
        monkeypatch.setitem(global_random._GAUSS_FIELDS, type(np.random.mtrand._rand), None)
    np.random.seed(5)
    if pending_gaussian:
        np.random.standard_normal()
    before = np.random.get_state()
    saved = global_random.save()
    assert _state_equal(np.random.get_state(), before)  # saving leaves it as it was
    np.random.standard_normal(3)
    global_random.reseed(9)
    np.random.random_sample(7)
    global_random.restore(saved)
    assert _state_equal(np.random.get_state(), before)
