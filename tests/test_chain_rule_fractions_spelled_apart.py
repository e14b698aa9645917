"""Scalar weights `w1..w8` with the chain rule written as fractions (`dE_douth1`, the loss's derivative
with respect to `out_h1`): the fraction drops the underscore of the value it is taken by, so it is paired
with `out_h1` by its spelling without underscores. A hidden unit's gradient that leaves out one of the
two paths back from the outputs is named at that statement, with both paths in the advice.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

i1, i2 = 0.05, 0.10
t1, t2 = 0.01, 0.99
w1, w2, w3, w4 = 0.15, 0.20, 0.25, 0.30
w5, w6, w7, w8 = 0.40, 0.45, 0.50, 0.55
b1, b2 = 0.35, 0.60
lr = 0.5


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


for step in range(500):
    net_h1 = w1 * i1 + w2 * i2 + b1
    net_h2 = w3 * i1 + w4 * i2 + b1
    out_h1, out_h2 = sigmoid(net_h1), sigmoid(net_h2)
    net_o1 = w5 * out_h1 + w6 * out_h2 + b2
    net_o2 = w7 * out_h1 + w8 * out_h2 + b2
    out_o1, out_o2 = sigmoid(net_o1), sigmoid(net_o2)
    E_total = 0.5 * (t1 - out_o1) ** 2 + 0.5 * (t2 - out_o2) ** 2

    delta_o1 = -(t1 - out_o1) * out_o1 * (1 - out_o1)
    delta_o2 = -(t2 - out_o2) * out_o2 * (1 - out_o2)
    dE_dw5, dE_dw6 = delta_o1 * out_h1, delta_o1 * out_h2
    dE_dw7, dE_dw8 = delta_o2 * out_h1, delta_o2 * out_h2
    dE_douth1 = delta_o1 * w5 + delta_o2 * w7
    dE_douth2 = delta_o1 * w6 + delta_o2 * w8
    delta_h1 = dE_douth1 * out_h1 * (1 - out_h1)
    delta_h2 = dE_douth2 * out_h2 * (1 - out_h2)
    dE_dw1, dE_dw2 = delta_h1 * i1, delta_h1 * i2
    dE_dw3, dE_dw4 = delta_h2 * i1, delta_h2 * i2

    w1, w2, w3, w4 = w1 - lr * dE_dw1, w2 - lr * dE_dw2, w3 - lr * dE_dw3, w4 - lr * dE_dw4
    w5, w6, w7, w8 = w5 - lr * dE_dw5, w6 - lr * dE_dw6, w7 - lr * dE_dw7, w8 - lr * dE_dw8
'''

RIGHT = "    dE_douth1 = delta_o1 * w5 + delta_o2 * w7\n"


def test_the_path_left_out_is_named_at_its_fraction(tmp_path):
    path = planted(tmp_path, "mazur.py", PROGRAM, RIGHT, "    dE_douth1 = delta_o1 * w5\n")
    (error,) = errors(check(path))
    assert error["line"] == line_of(path, "dE_douth1 = delta_o1 * w5")
    assert "with respect to `out_h1`" in error["message"] and "`delta_o2`" in error["message"]


def test_the_full_chain_rule_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "mazur.py", PROGRAM, RIGHT, RIGHT))) == []
