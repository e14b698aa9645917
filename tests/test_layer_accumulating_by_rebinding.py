"""A layer whose backward adds to its stored gradient by rebinding (`self.dW = self.dW + ...`)
instead of `+=`: not re-entrant, and the finding names that statement, not the `def` line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

AFFINE = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)
        self.x = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""


def test_an_assigning_backward_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "layers.py", AFFINE))) == []


def test_a_backward_that_rebinds_its_gradient_to_a_sum_with_itself_is_named_at_that_statement(tmp_path):
    path = planted(tmp_path, "layers.py", AFFINE, "self.dW = self.x.T @ dout", "self.dW = self.dW + self.x.T @ dout")
    found = [f for f in errors(check(path)) if f["name"] == "nonreentrant-backward"]
    assert [f["line"] for f in found] == [line_of(path, "self.dW = self.dW + self.x.T @ dout")]
