"""A layer whose forward's docstring gives its input three axes (`x: N x T x D`) is checked on a
sequence first: its backward may sum over the batch and time axes (`np.sum(dout, axis=(0, 1))`),
which is right for the input it is written for and wrong for a 2-D batch it never gets."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

LAYER = """
import numpy as np


class TokenwiseDense:
    def __init__(self, input_size, output_size):
        W = np.random.randn(input_size, output_size) / np.sqrt(input_size)
        self.params = [W, np.zeros(output_size)]
        self.grads = [np.zeros_like(W), np.zeros(output_size)]

    def forward(self, x):
        '''x: N x T x input_size, the same dense layer applied at every position'''
        W, b = self.params
        self.x = x
        return x @ W + b

    def backward(self, dout):
        W, b = self.params
        self.grads[0][...] = np.tensordot(self.x, dout, axes=([0, 1], [0, 1]))
        self.grads[1][...] = np.sum(dout, axis=(0, 1))
        return dout @ W.T
"""

DX = "return dout @ W.T"
DX_UNTRANSPOSED = "return dout @ W"


def test_a_sequence_layer_declared_in_its_docstring_is_checked_on_a_sequence_and_is_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "dense.py", LAYER, DX, DX))
    assert errors(report) == []
    built = {row["what"]: row for row in report["built"]}
    assert built["TokenwiseDense"]["shapes"].startswith("x (5, 3, ")
    assert {m["param"] for m in report["measurements"]} >= {"params[0]", "params[1]", "x"}


def test_a_wrong_dx_of_the_sequence_layer_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "dense.py", LAYER, DX, DX_UNTRANSPOSED)
    report = check(path)
    assert line_of(path, DX_UNTRANSPOSED) in {f["line"] for f in errors(report)}
