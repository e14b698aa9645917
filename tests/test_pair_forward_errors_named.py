"""When no synthesized input runs through a function pair's forward, the report says what the
forward raised and where, instead of only "no synthesized input runs through it": a shape made
with `/` (a float in Python 3) is an error at the user's line, an unfinished exercise a build
failure that quotes its error. Parameter dictionaries carry both spellings some copies of the
course use (`conv_param['padding']`, `pool_param['pool_stride']`), so those pairs are checked."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, write

CONV = """\
import numpy as np


def conv_forward(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['padding']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out_h = (H + 2 * pad - HH) // stride + 1
    out_w = (W + 2 * pad - WW) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['padding']
    F, _, HH, WW = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dpadded = np.zeros_like(padded)
    dw = np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], padded[:, :, rows, cols], axes=([0], [0]))
            dpadded[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dpadded[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward(x, pool_param):
    size, stride = pool_param['pool_height'], pool_param['pool_stride']
    N, C, H, W = x.shape
    out = np.zeros((N, C, (H - size) // stride + 1, (W - size) // stride + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward(dout, cache):
    x, pool_param = cache
    size, stride = pool_param['pool_height'], pool_param['pool_stride']
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
"""

DIVIDED = ("out_h = (H + 2 * pad - HH) // stride + 1", "out_h = (H + 2 * pad - HH) / stride + 1")

UNFINISHED = """\
import numpy as np


def affine_forward(x, w, b):
    out = None
    cache = (x, w, b)
    return out.reshape(x.shape[0], -1), cache


def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
"""


def test_pairs_reading_padding_and_pool_stride_are_checked(tmp_path):
    report = check(write(tmp_path, "layers.py", CONV))
    assert errors(report) == []
    assert {b["what"]: bool(b["shapes"]) for b in report["built"]} == {
        "conv_forward/conv_backward": True,
        "max_pool_forward/max_pool_backward": True,
    }


def test_a_shape_made_with_true_division_is_an_error_where_the_float_is_used(tmp_path):
    path = write(tmp_path, "layers.py", CONV.replace(*DIVIDED))
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD105", line_of(path, "out = np.zeros((N, F, out_h, out_w))"))
    assert "TypeError ('float' object cannot be interpreted as an integer)" in finding["message"]


def test_an_unfinished_forward_is_named_as_not_written_yet_where_the_placeholder_is_used(tmp_path):
    # (was a build failure quoting the AttributeError; helper-104 made a `None` placeholder the user's code that raised)
    path = write(tmp_path, "layers.py", UNFINISHED)
    report = check(path)
    (raised,) = [f for f in report["findings"] if f["name"] == "layer-raised"]
    assert (raised["severity"], raised["line"]) == ("warning", line_of(path, "return out.reshape(")), raised
    assert raised["message"].startswith(
        f"`affine_forward` is not written yet: `out` is still the `None` placeholder it started as (line {line_of(path, 'out = None')})"
    ), raised["message"]
    assert [f for f in report["findings"] if f["name"] == "build-failed"] == []


FLOAT_OF_BIAS = '''\
import numpy as np


def conv_single_step(a_slice, W, b):
    return np.sum(a_slice * W) + float(b)


def conv_forward(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride = hparameters["stride"]
    n_H = (n_H_prev - f) // stride + 1
    n_W = (n_W_prev - f) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = A_prev[i, h * stride:h * stride + f, w * stride:w * stride + f, :]
                    Z[i, h, w, c] = conv_single_step(window, W[:, :, :, c], b[:, :, :, c])
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    return np.zeros_like(A_prev), np.zeros_like(W), np.zeros_like(b)
'''


def _turns_size_one_arrays_into_numbers() -> bool:
    """NumPy before 2 turns a (1, 1, 1) array into a float; NumPy 2 raises TypeError."""
    import numpy as np

    try:
        float(np.ones((1, 1, 1)))
    except TypeError:
        return False
    return True


NUMPY_2_ONLY = pytest.mark.skipif(_turns_size_one_arrays_into_numbers(), reason="this NumPy still turns a (1, 1, 1) array into a float")


@NUMPY_2_ONLY
def test_float_of_a_size_one_array_is_an_error_at_its_line_with_the_numpy_2_spelling(tmp_path):
    """NumPy 2 turns only 0-dimensional arrays into numbers: `float(b)` of a (1, 1, 1) bias raises
    for every input of the documented shapes, so no `--build` can help; `b.item()` works."""
    from tests.userfiles import check, errors, line_of, write

    path = write(tmp_path, "conv.py", FLOAT_OF_BIAS)
    (finding,) = errors(check(path))
    assert (finding["name"], finding["line"]) == ("layer-raised", line_of(path, "+ float(b)"))
    assert "write `b.item()`" in finding["message"]
