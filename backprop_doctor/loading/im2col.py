"""NumPy stand-ins for cs231n's compiled `im2col_cython` extension.

The cs231n assignments ship `fast_layers.py`, whose convolution and pooling call
`im2col_cython`, `col2im_cython` and `col2im_6d_cython` from a Cython module that the student
builds with `python setup.py build_ext --inplace`. A copy of the assignment seldom carries the
built extension; `fast_layers.py` imports it inside `try: ... except ImportError:` and only prints
a hint, so `conv_forward_fast`, `conv_relu_pool_forward` and every `ThreeLayerConvNet` built on
them then fail with NameError and are skipped. These functions take the extension's place with
its results: the same layout of columns (one row per channel and filter offset, one column per
output position and sample, the sample varying fastest) and the same sums back into the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FUNCTIONS = ("im2col_cython", "col2im_cython", "col2im_6d_cython")  # `<...>.im2col_cython.<name>` stood in for


def stands_for(module: str) -> bool:
    """True for the extension's module, however it is imported (`cs231n.im2col_cython`, `im2col_cython`):
    answered even inside `try: ... except ImportError:`, whose only aim is the hint to build it."""
    return module.rpartition(".")[2] == "im2col_cython"


def functions_of(module: str) -> tuple[str, ...]:
    """The names of the missing `module` stood in for here (`datasets.standin` asks every such module)."""
    return FUNCTIONS if stands_for(module) else ()


def _offsets(field_height: int, field_width: int, out_h: int, out_w: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices into the padded image, shaped (field_height, field_width, out_h, out_w)
    once broadcast: position (ii, jj) of the filter at output position (yy, xx)."""
    rows = np.arange(field_height)[:, None, None, None] + stride * np.arange(out_h)[None, None, :, None]
    cols = np.arange(field_width)[None, :, None, None] + stride * np.arange(out_w)[None, None, None, :]
    return rows, cols


def _out_size(size: int, field: int, padding: int, stride: int) -> int:
    return (size + 2 * padding - field) // stride + 1


def _row_of(channels: int, field_height: int, field_width: int) -> np.ndarray:
    """The extension's row for (channel, ii, jj): `c * fw * fh + ii * fh + jj`, its own formula
    (the same as row-major order for the square filters it is used with)."""
    c = np.arange(channels)[:, None, None]
    ii = np.arange(field_height)[None, :, None]
    jj = np.arange(field_width)[None, None, :]
    return c * field_width * field_height + ii * field_height + jj


def im2col_cython(x: Any, field_height: int, field_width: int, padding: int, stride: int) -> np.ndarray:
    """Columns (C * fh * fw, N * out_h * out_w) of the zero-padded image x (N, C, H, W)."""
    x = np.asarray(x)
    n, channels, height, width = x.shape
    out_h, out_w = _out_size(height, field_height, padding, stride), _out_size(width, field_width, padding, stride)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    rows, cols = _offsets(field_height, field_width, out_h, out_w, stride)
    patches = padded[:, :, rows, cols]  # (N, C, fh, fw, out_h, out_w)
    out = np.zeros((channels * field_height * field_width, n * out_h * out_w), dtype=x.dtype)
    out[_row_of(channels, field_height, field_width)] = patches.transpose(1, 2, 3, 4, 5, 0).reshape(
        channels, field_height, field_width, -1
    )
    return out


def col2im_cython(cols: Any, N: int, C: int, H: int, W: int, field_height: int, field_width: int, padding: int, stride: int) -> np.ndarray:  # noqa: N803 - the extension's names
    """The image (N, C, H, W) whose every pixel sums the columns that `im2col_cython` copied it to."""
    cols = np.asarray(cols)
    out_h, out_w = _out_size(H, field_height, padding, stride), _out_size(W, field_width, padding, stride)
    values = cols[_row_of(C, field_height, field_width)].reshape(C, field_height, field_width, out_h, out_w, N)
    return _summed(values.transpose(5, 0, 1, 2, 3, 4), H, W, padding, stride)


def col2im_6d_cython(cols: Any, N: int, C: int, H: int, W: int, HH: int, WW: int, pad: int, stride: int) -> np.ndarray:  # noqa: N803
    """The image (N, C, H, W) summed from columns shaped (C, HH, WW, N, out_h, out_w)."""
    del N, C  # read from `cols`, as the extension's loops do
    return _summed(np.asarray(cols).transpose(3, 0, 1, 2, 4, 5), H, W, pad, stride)


def _summed(values: np.ndarray, height: int, width: int, padding: int, stride: int) -> np.ndarray:
    """values (N, C, fh, fw, out_h, out_w) added into a zero image at their filter positions, unpadded."""
    n, channels, field_height, field_width, out_h, out_w = values.shape
    padded = np.zeros((n, channels, height + 2 * padding, width + 2 * padding), dtype=values.dtype)
    rows, cols = _offsets(field_height, field_width, out_h, out_w, stride)
    np.add.at(padded, (slice(None), slice(None), rows, cols), values)
    return padded[:, :, padding:-padding, padding:-padding] if padding > 0 else padded
