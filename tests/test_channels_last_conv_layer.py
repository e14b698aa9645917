"""A convolution layer written channels last (`w` of shape (h_f, w_f, c_f, n_f), inputs (n, h, w, c))
whose `padding` is a mode (`'valid'`), not a size: it is built with its own mode and checked on
channels-last images. A channels-first image whose height is smaller than the kernel gives an empty
output, which checks nothing: it is not taken for an input the layer accepts, so a wrong weight
gradient is found."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

CONV = """\
import numpy as np


class Conv2D:
    def __init__(self, w, b, padding='valid', stride=1):
        if padding not in ('valid', 'same'):
            raise ValueError('padding must be valid or same')
        self.w, self.b, self.padding, self.stride = w, b, padding, stride

    def forward(self, a_prev):
        self.a_prev = a_prev
        h_f, w_f, _, n_f = self.w.shape
        n, h_in, w_in, _ = a_prev.shape
        h_out = (h_in - h_f) // self.stride + 1
        w_out = (w_in - w_f) // self.stride + 1
        out = np.zeros((n, h_out, w_out, n_f))
        for i in range(h_out):
            for j in range(w_out):
                top, left = i * self.stride, j * self.stride
                patch = a_prev[:, top:top + h_f, left:left + w_f, :]
                out[:, i, j, :] = np.tensordot(patch, self.w, axes=([1, 2, 3], [0, 1, 2]))
        return out + self.b

    def backward(self, dout):
        h_f, w_f, _, _ = self.w.shape
        da_prev = np.zeros_like(self.a_prev)
        self.dw = np.zeros_like(self.w)
        self.db = dout.sum(axis=(0, 1, 2))
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                top, left = i * self.stride, j * self.stride
                patch = self.a_prev[:, top:top + h_f, left:left + w_f, :]
                self.dw += np.tensordot(patch, dout[:, i, j, :], axes=([0], [0]))
                da_prev[:, top:top + h_f, left:left + w_f, :] += np.tensordot(dout[:, i, j, :], self.w, axes=([1], [3]))
        return da_prev
"""

DW = "self.dw += np.tensordot(patch, dout[:, i, j, :], axes=([0], [0]))"


def test_a_channels_last_layer_with_a_padding_mode_is_checked_on_channels_last_images(tmp_path):
    report = check(write(tmp_path, "conv.py", CONV))
    assert errors(report) == []
    ((what, shapes),) = [(b["what"], b["shapes"]) for b in report["built"]]
    assert what == "Conv2D" and shapes.startswith("x (5, 6, 6, 3)")


def test_a_wrong_weight_gradient_is_found(tmp_path):
    wrong = "self.dw += 0.5 * np.tensordot(patch, dout[:, i, j, :], axes=([0], [0]))"
    path = planted(tmp_path, "conv.py", CONV, DW, wrong)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD101", "w", line_of(path, wrong))
