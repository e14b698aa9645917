"""A layer handed its arrays whose weight is kept (out, in), computing `x @ W.T + b`.

`Linear(weight, bias)` is built with a weight of the usual guessed shape; when no input runs
through it that way, its bias is sized by the weight's rows, in the layout its backward computes
the bias's gradient in (here (1, out), from `keepdims=True`), and the input by the weight's columns.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYER = """\
    import numpy as np


    class Linear:
        def __init__(self, weight, bias):
            self.weight, self.bias = weight, bias

        def forward(self, x):
            self.x = x
            return x @ self.weight.T + self.bias

        def backward(self, dy):
            self.dweight = dy.T @ self.x
            self.dbias = dy.sum(axis=0, keepdims=True)
            return dy @ self.weight
"""


def test_a_layer_keeping_its_weight_out_by_in_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "linear.py", LAYER))
    assert errors(report) == []
    assert {(m["param"], m["verdict"]) for m in report["measurements"]} == {("x", "ok"), ("weight", "ok"), ("bias", "ok")}
    (built,) = report["built"]
    assert built["how"] == "Linear(weight=array(6, 4), bias=array(1, 6))"


def test_its_weight_gradient_transposed_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "linear.py", LAYER, "self.dweight = dy.T @ self.x", "self.dweight = self.x.T @ dy")
    report = check(path)
    (wrong,) = errors(report)
    assert (wrong["name"], wrong["param"], wrong["pattern"]) == ("gradient-shape-mismatch", "weight", "transposed")
    assert wrong["line"] == line_of(path, "self.dweight = self.x.T @ dy")
