"""A loss written as the total of per-output terms the pass names (`E_o1`, `E_o2`, then `E_total = E_o1 +
E_o2`, as the step-by-step backpropagation tutorials spell it out with scalar weights): the total is the
loss replayed, not its last term, so a correct program is clean and a wrong hidden gradient is named."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCALARS = '''\
import numpy as np

x1, x2 = 0.3, -0.7
t1, t2 = 0.2, 0.8
w1, w2, w3, w4 = 0.1, -0.2, 0.3, 0.25
w5, w6, w7, w8 = -0.35, 0.4, 0.15, -0.1
b1, b2 = 0.05, -0.05
rate = 0.4


def squash(z):
    return 1.0 / (1.0 + np.exp(-z))


for it in range(3000):
    net_a1 = w1 * x1 + w2 * x2 + b1
    net_a2 = w3 * x1 + w4 * x2 + b1
    a1, a2 = squash(net_a1), squash(net_a2)
    net_y1 = w5 * a1 + w6 * a2 + b2
    net_y2 = w7 * a1 + w8 * a2 + b2
    y1, y2 = squash(net_y1), squash(net_y2)
    E_1 = 0.5 * (t1 - y1) ** 2
    E_2 = 0.5 * (t2 - y2) ** 2
    E_total = E_1 + E_2
    g1 = (y1 - t1) * y1 * (1 - y1)
    g2 = (y2 - t2) * y2 * (1 - y2)
    h1 = (g1 * w5 + g2 * w7) * a1 * (1 - a1)
    h2 = (g1 * w6 + g2 * w8) * a2 * (1 - a2)
    w5 -= rate * g1 * a1
    w6 -= rate * g1 * a2
    w7 -= rate * g2 * a1
    w8 -= rate * g2 * a2
    w1 -= rate * h1 * x1
    w2 -= rate * h1 * x2
    w3 -= rate * h2 * x1
    w4 -= rate * h2 * x2
'''


def test_the_total_of_the_named_terms_is_the_loss_and_the_program_is_clean(tmp_path):
    report = check(write(tmp_path, "scalars.py", SCALARS))
    assert errors(report) == []
    assert replayed(report)["loss"] == "E_total"


def test_a_hidden_gradient_that_leaves_out_one_output_is_named_against_the_total(tmp_path):
    path = planted(tmp_path, "scalars.py", SCALARS, "h1 = (g1 * w5 + g2 * w7) * a1 * (1 - a1)", "h1 = g1 * w5 * a1 * (1 - a1)")
    report = check(path)
    assert replayed(report)["loss"] == "E_total"
    assert {f["line"] for f in errors(report)} == {line_of(path, "h1 = g1 * w5")}
