"""A convolution whose single step adds the bias to every product of the window before summing
(`s = a_slice * W + b; Z = np.sum(s)`) counts the bias f·f·C times; the backward's `db += dZ` is the
usual one. The bias gradient is then a fixed fraction of the numerical one, and the report names the
forward's line with the sum written once, never "remove the constant factor" at `db`."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

CONV = '''\
import numpy as np


def conv_single_step(a_slice, W, b):
    s = a_slice * W
    Z = np.sum(s)
    return Z + b.item()


def conv_forward(A_prev, W, b, hparameters):
    m, H_prev, W_prev, C_prev = A_prev.shape
    f, _, _, C = W.shape
    stride = hparameters["stride"]
    H = (H_prev - f) // stride + 1
    Wd = (W_prev - f) // stride + 1
    Z = np.zeros((m, H, Wd, C))
    for i in range(m):
        for h in range(H):
            for w in range(Wd):
                for c in range(C):
                    top, left = h * stride, w * stride
                    window = A_prev[i, top:top + f, left:left + f, :]
                    Z[i, h, w, c] = conv_single_step(window, W[:, :, :, c], b[:, :, :, c])
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride = hparameters["stride"]
    f = W.shape[0]
    m, H, Wd, C = dZ.shape
    dA_prev, dW, db = np.zeros(A_prev.shape), np.zeros(W.shape), np.zeros(b.shape)
    for i in range(m):
        for h in range(H):
            for w in range(Wd):
                for c in range(C):
                    top, left = h * stride, w * stride
                    window = A_prev[i, top:top + f, left:left + f, :]
                    dA_prev[i, top:top + f, left:left + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += window * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    return dA_prev, dW, db


np.random.seed(1)
A_prev = np.random.randn(3, 4, 4, 2)
W = np.random.randn(2, 2, 2, 3)
b = np.random.randn(1, 1, 1, 3)
Z, cache = conv_forward(A_prev, W, b, {"stride": 1})
dA, dW, db = conv_backward(np.ones_like(Z), cache)
print(Z.mean(), db.ravel())
'''

RIGHT = "    s = a_slice * W\n    Z = np.sum(s)\n    return Z + b.item()\n"


def test_the_convolution_that_adds_its_bias_once_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "conv.py", CONV))) == []


@pytest.mark.parametrize("added", ["s = a_slice * W + b", "s = np.multiply(a_slice, W) + b"])
def test_a_bias_added_inside_the_window_sum_is_named_at_the_forward(tmp_path, added):
    path = planted(tmp_path, "conv.py", CONV, RIGHT, f"    {added}\n    Z = np.sum(s)\n    return Z\n")
    found = errors(check(path))
    biases = [f for f in found if f["param"] == "b"]
    assert len(biases) == 1
    (finding,) = biases
    assert (finding["pattern"], finding["line"]) == ("bias-inside-sum", line_of(path, added))
    assert "counts `b` 8 times" in finding["message"]  # a 2 × 2 window over 2 channels
    product = added.partition("= ")[2].removesuffix(" + b")
    assert finding["fix"] == f"np.sum({product}) + b"
    assert "remove the constant factor" not in finding["message"]
