"""Scalar networks written the way blog tutorials spell the chain rule: every factor gets a name
that reads as a fraction, `dy1_dz1` for dy1/dz1, `dL_dy1` for dL/dy1. Only the second kind is a
gradient of the loss; the first is one factor of the chain rule. A wrong weight in the hidden
layer's sum (`dL_dh1 = g1 * v11 + g2 * v12` where the weight into the second output is `v21`) must
be named at that sum; before, the step's walk read `dy1_dz1` as the loss's gradient with respect
to `z1` and blamed it, a line that is right. The correct twins are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

FUNCTION = '''\
import math

x1, x2 = 0.3, -0.8
t1, t2 = 0.9, 0.2
u11, u12, u21, u22 = 0.4, -0.6, 0.7, 0.1
v11, v12, v21, v22 = -0.3, 0.5, 0.8, -0.2
c1, c2 = 0.1, -0.1


def sig(s):
    return 1.0 / (1.0 + math.exp(-s))


def run(u11, u12, u21, u22, v11, v12, v21, v22):
    h1 = sig(u11 * x1 + u12 * x2 + c1)
    h2 = sig(u21 * x1 + u22 * x2 + c1)
    z1 = v11 * h1 + v12 * h2 + c2
    z2 = v21 * h1 + v22 * h2 + c2
    return h1, h2, sig(z1), sig(z2)


def loss_of(u11, u12, u21, u22, v11, v12, v21, v22):
    _, _, y1, y2 = run(u11, u12, u21, u22, v11, v12, v21, v22)
    return 0.5 * (y1 - t1) ** 2 + 0.5 * (y2 - t2) ** 2


def chain(u11, u12, u21, u22, v11, v12, v21, v22):
    h1, h2, y1, y2 = run(u11, u12, u21, u22, v11, v12, v21, v22)
    dL_dy1 = y1 - t1
    dL_dy2 = y2 - t2
    dy1_dz1 = y1 * (1 - y1)
    dy2_dz2 = y2 * (1 - y2)
    g1 = dL_dy1 * dy1_dz1
    g2 = dL_dy2 * dy2_dz2
    dL_dv11, dL_dv12 = g1 * h1, g1 * h2
    dL_dv21, dL_dv22 = g2 * h1, g2 * h2
    dL_dh1 = g1 * v11 + g2 * v21
    dL_dh2 = g1 * v12 + g2 * v22
    dh1_da1 = h1 * (1 - h1)
    dh2_da2 = h2 * (1 - h2)
    k1 = dL_dh1 * dh1_da1
    k2 = dL_dh2 * dh2_da2
    return [k1 * x1, k1 * x2, k2 * x1, k2 * x2, dL_dv11, dL_dv12, dL_dv21, dL_dv22]


weights = [u11, u12, u21, u22, v11, v12, v21, v22]
rate = 0.5
for it in range(3000):
    err = loss_of(*weights)
    step = chain(*weights)
    weights = [w - rate * g for w, g in zip(weights, step)]
    if it % 500 == 0:
        print(it, err)
'''

SCRIPT = '''\
import numpy as np


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


a, b = 0.6, -0.4
target = 0.25
p, q, r, s = 0.5, -0.3, 0.9, 0.4
for epoch in range(2000):
    z_h1 = p * a + q * b
    z_h2 = q * a - p * b
    h1 = np.tanh(z_h1)
    h2 = np.tanh(z_h2)
    z_o = r * h1 + s * h2
    y = sigmoid(z_o)
    loss = (y - target) ** 2
    dloss_dy = 2 * (y - target)
    dy_dzo = y * (1 - y)
    dloss_dzo = dloss_dy * dy_dzo
    dloss_dr = dloss_dzo * h1
    dloss_ds = dloss_dzo * h2
    dloss_dh1 = dloss_dzo * r
    dloss_dh2 = dloss_dzo * s
    dh1_dzh1 = 1 - h1 ** 2
    dh2_dzh2 = 1 - h2 ** 2
    dloss_dzh1 = dloss_dh1 * dh1_dzh1
    dloss_dzh2 = dloss_dh2 * dh2_dzh2
    dloss_dp = dloss_dzh1 * a - dloss_dzh2 * b
    dloss_dq = dloss_dzh1 * b + dloss_dzh2 * a
    p -= 0.3 * dloss_dp
    q -= 0.3 * dloss_dq
    r -= 0.3 * dloss_dr
    s -= 0.3 * dloss_ds
    if epoch % 400 == 0:
        print(epoch, loss)
'''

CASES = {
    "function": (FUNCTION, "dL_dh1 = g1 * v11 + g2 * v21", "dL_dh1 = g1 * v11 + g2 * v12"),
    "script": (SCRIPT, "dloss_dh2 = dloss_dzo * s", "dloss_dh2 = dloss_dzo * r"),
}


def test_a_wrong_weight_in_a_hidden_sum_is_named_at_that_sum_not_at_a_local_derivative(tmp_path):
    _, right, wrong = CASES["script"]
    path = planted(tmp_path, "net.py", SCRIPT, right, wrong)
    report = check(path)
    (error,) = errors(report)
    assert error["line"] == line_of(path, wrong), error["message"]
    assert error["message"].startswith("`dloss_dh2`") and "`dy_dzo`" not in error["message"]


def test_right_statements_are_not_accused_when_the_wrong_sum_has_no_value_to_measure(tmp_path):
    """In `chain`, `h1` is a local of `run` the loss never sees, so `dL_dh1` cannot be measured. `g1` and `g2`
    are each right (the output weights' gradients read them and are right): neither is the one statement
    in between `dL_dy2` and the wrong updates. The finding stays at the updates that are wrong."""
    _, right, wrong = CASES["function"]
    path = planted(tmp_path, "net.py", FUNCTION, right, wrong)
    report = check(path)
    (error,) = errors(report)
    assert error["line"] in (line_of(path, wrong), line_of(path, "weights = [w - rate * g")), error["message"]
    assert "`weights[0]` and `weights[1]`" in error["message"]
    assert all(f"line {line_of(path, s)}" not in error["message"] for s in ("g1 = dL_dy1", "g2 = dL_dy2", "dy1_dz1 =", "dy2_dz2 ="))


@pytest.mark.parametrize("style", CASES)
def test_the_correct_scalar_networks_are_clean(tmp_path, style):
    report = check(write(tmp_path, "net.py", CASES[style][0]))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    assert any(m["layer"] == "training step" for m in report["measurements"])
