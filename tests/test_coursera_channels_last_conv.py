"""The deep-learning course's convolution pair, channels last, its settings in a dict:
`conv_forward(A_prev (m, n_H, n_W, n_C), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C), hparameters)`.
It is built channels last (a channels-first batch made its backward raise, a false error), checked
clean, and a wrong gradient is still found."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

PAIR = """\
import numpy as np


def conv_forward(A_prev, W, b, hparameters):
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            window = A_pad[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            Z[:, h, w, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2])) + b[0, 0, 0]
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_pad, dW = np.zeros_like(A_pad), np.zeros_like(W)
    db = dZ.sum(axis=(0, 1, 2)).reshape(b.shape)
    for h in range(dZ.shape[1]):
        for w in range(dZ.shape[2]):
            window = A_pad[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            dW += np.tensordot(window, dZ[:, h, w, :], axes=([0], [0]))
            dA_pad[:, h * stride:h * stride + f, w * stride:w * stride + f, :] += np.tensordot(dZ[:, h, w, :], W, axes=([1], [3]))
    dA_prev = dA_pad[:, pad:dA_pad.shape[1] - pad, pad:dA_pad.shape[2] - pad, :]
    return dA_prev, dW, db
"""


def test_the_channels_last_pair_is_built_so_and_clean(tmp_path):
    report = check(write(tmp_path, "conv.py", PAIR))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "conv_forward/conv_backward"]
    assert "channels last" in built["shapes"] and built["skipped"] is None


def test_a_wrong_bias_gradient_of_that_pair_is_found(tmp_path):
    path = planted(tmp_path, "conv.py", PAIR, "db = dZ.sum(axis=(0, 1, 2)).reshape(b.shape)", "db = 2 * dZ.sum(axis=(0, 1, 2)).reshape(b.shape)")
    assert "b" in {f["param"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
