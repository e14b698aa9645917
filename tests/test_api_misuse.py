"""Wrong calls of the library API raise the tool's own errors, naming the argument and its value."""

from __future__ import annotations

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor.api import MAX_INPUT_ELEMENTS
from backprop_doctor.errors import UnsupportedObject, UsageError


class Affine:
    def __init__(self, d_in: int = 3, d_out: int = 2):
        rng = np.random.default_rng(0)
        self.W = rng.standard_normal((d_in, d_out))
        self.b = np.zeros(d_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class RaisingLookup(Affine):
    def __getattr__(self, name):
        raise RuntimeError(f"no {name} here")


class EmptyNet:
    def __init__(self):
        self.params = {}
        self.layers = {}

    def loss(self, x, t):
        return 0.0

    def gradient(self, x, t):
        return {}


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


@pytest.mark.parametrize(
    ("x", "named"),
    [
        (np.array([[1.0, None, 2.0]], dtype=object), "dtype object"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], "ragged"),
        ("abc", "x='abc' is not numeric"),
        (np.ones((2, 3)) * 1j, "complex"),
        (None, "x=None"),
    ],
    ids=["object", "ragged", "string", "complex", "none"],
)
def test_check_layer_names_an_unusable_x(x, named):
    with pytest.raises(UsageError, match=named):
        bd.check_layer(Affine(), x)


def test_check_network_names_string_targets():
    net_x = np.ones((2, 3))
    with pytest.raises(UsageError, match="t='ab' is not numeric"):
        bd.check_network(EmptyNet(), net_x, "ab")


def test_options_that_are_not_options_are_named():
    with pytest.raises(UsageError, match="options='x'"):
        bd.check_layer(Affine(), np.ones((2, 3)), options="x")


@pytest.mark.parametrize(
    ("forward", "named"),
    [(max, "forward=<built-in function max> has no Python signature"), (1, "forward=1 is not callable")],
    ids=["builtin", "not-callable"],
)
def test_check_functions_rejects_what_it_cannot_call(forward, named):
    with pytest.raises(UsageError, match=named):
        bd.check_functions(forward, affine_backward, np.ones((2, 3)), np.ones((3, 2)), np.zeros(2))


def test_a_getattr_that_raises_is_named_not_raised():
    with pytest.raises(UnsupportedObject, match=r"RaisingLookup raised RuntimeError: no \w+ here"):
        bd.check_layer(RaisingLookup(), np.ones((2, 3)))


def test_a_network_without_parameters_is_not_reported_ok():
    with pytest.raises(UnsupportedObject, match="EmptyNet.params holds no float arrays"):
        bd.check_network(EmptyNet(), np.ones((2, 3)), np.array([0, 1]))


def test_check_file_needs_a_path():
    with pytest.raises(UsageError, match="path=None"):
        bd.check_file(None)


def test_a_huge_batch_is_cut_to_its_first_rows_and_the_report_says_so():
    rows, width = 300, MAX_INPUT_ELEMENTS // 100  # 3x the limit
    x = np.random.default_rng(1).standard_normal((rows, width))
    before = x.copy()
    report = bd.check_layer(Affine(width, 2), x)
    kept = MAX_INPUT_ELEMENTS // width
    assert report.ok
    assert report.built[0].shapes == f"x ({kept}, {width}) (the first {kept} of {rows} samples)"
    assert np.array_equal(x, before)


def test_one_sample_larger_than_the_limit_is_refused():
    x = np.zeros((1, MAX_INPUT_ELEMENTS + 1))
    with pytest.raises(UsageError, match="one sample holds 1,000,001 numbers"):
        bd.check_layer(Affine(MAX_INPUT_ELEMENTS + 1, 1), x)
