"""A convolution written on cs231n's compiled `im2col_cython` extension, imported inside
`try: ... except ImportError:` that only prints how to build it: without the built extension
backprop-doctor runs it on NumPy versions of `im2col_cython` and `col2im_cython`, says so, and
checks the layer, so a wrong gradient is found at its line."""

from __future__ import annotations

import numpy as np

from backprop_doctor.loading import im2col
from tests.userfiles import check, errors, line_of, planted, write

CONV = """\
import numpy as np

try:
    from im2col_cython import im2col_cython, col2im_cython
except ImportError:
    print('build the extension first: python setup.py build_ext --inplace')


def conv_forward_fast(x, w, b, conv_param):
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    out_h = (h + 2 * pad - hh) // stride + 1
    out_w = (wd + 2 * pad - ww) // stride + 1
    cols = im2col_cython(x, hh, ww, pad, stride)
    out = (w.reshape(f, -1) @ cols + b[:, None]).reshape(f, out_h, out_w, n).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, cols)


def conv_backward_fast(dout, cache):
    x, w, b, conv_param, cols = cache
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    db = dout.sum(axis=(0, 2, 3))
    flat = dout.transpose(1, 2, 3, 0).reshape(f, -1)
    dw = (flat @ cols.T).reshape(w.shape)
    dcols = w.reshape(f, -1).T @ flat
    dx = col2im_cython(dcols, n, c, h, wd, hh, ww, pad, stride)
    return dx, dw, db
"""


def test_a_convolution_on_the_unbuilt_extension_is_checked_on_its_numpy_stand_in(tmp_path):
    path = write(tmp_path, "fast_conv.py", CONV)
    report = check(path)
    assert errors(report) == []
    (pair,) = [b for b in report["built"] if b["what"] == "conv_forward_fast/conv_backward_fast"]
    assert pair["shapes"]  # checked, not skipped
    (missing,) = [f for f in report["findings"] if f["name"] == "missing-module"]
    assert missing["line"] == line_of(path, "from im2col_cython import")
    assert "NumPy versions of `im2col_cython`, `col2im_cython`, `col2im_6d_cython`" in missing["message"]


def test_a_wrong_weight_gradient_on_the_stand_in_is_blamed_at_its_line(tmp_path):
    path = planted(tmp_path, "fast_conv.py", CONV, "dw = (flat @ cols.T)", "dw = 0.5 * (flat @ cols.T)")
    wrong = errors(check(path))
    assert wrong and {f["line"] for f in wrong} == {line_of(path, "dw = 0.5")}


def test_the_stand_ins_sum_back_what_im2col_copied_out():
    """col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)> for any x and c, also for
    the 6-D layout (channels, filter rows, filter columns, samples, output rows, output columns)."""
    rng = np.random.default_rng(3)
    for n, c, h, w, field, pad, stride in [(2, 3, 5, 5, 3, 1, 1), (3, 2, 6, 6, 2, 0, 2), (1, 2, 7, 7, 3, 1, 2)]:
        x = rng.standard_normal((n, c, h, w))
        cols = im2col.im2col_cython(x, field, field, pad, stride)
        out = (h + 2 * pad - field) // stride + 1
        assert cols.shape == (c * field * field, n * out * out)
        other = rng.standard_normal(cols.shape)
        back = im2col.col2im_cython(other, n, c, h, w, field, field, pad, stride)
        assert np.isclose((cols * other).sum(), (x * back).sum())
        six = other.reshape(c, field, field, out, out, n).transpose(0, 1, 2, 5, 3, 4)
        assert np.allclose(im2col.col2im_6d_cython(six, n, c, h, w, field, field, pad, stride), back)
