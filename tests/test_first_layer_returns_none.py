"""A backward that ends in `return None` on purpose, as a network's first layer may (nobody reads
its input gradient), is a warning that says when that is right; a backward that forgets its
`return dx` is still an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYER = '''\
import numpy as np


class FirstDense:
    def __init__(self, n_in, n_out):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.1

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        # the first layer: nothing before it needs dx
        return None
'''


def test_an_explicit_return_none_is_a_warning_at_that_line(tmp_path):
    path = write(tmp_path, "first.py", LAYER)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "bad-return"]
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "return None"))
    assert "right for a network's first layer only" in finding["message"]


def test_a_forgotten_return_is_still_an_error(tmp_path):
    path = planted(tmp_path, "first.py", LAYER, "        return None\n", "        dx = dout @ self.W.T\n")
    (finding,) = [f for f in errors(check(path)) if f["name"] == "bad-return"]
    assert "returns None, so the gradient stops here" in finding["message"]
