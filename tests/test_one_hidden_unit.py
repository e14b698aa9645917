"""A network with one hidden unit on four clusters in an XOR layout: every gradient is right, and
its loss, flat over the first 40 steps, falls over the program's own 3,000 to a plateau no
learning rate gets under. The rate is not what to change (it works within the program's own
training); the network cannot fit five samples: `step-cannot-overfit`, not `step-rate-too-low`."""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

WIDTH = 1

gen = np.random.default_rng(11)
corners = np.array([[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0], [-2.0, 2.0]])
labels = np.array([1, 1, 0, 0]).repeat(40)
inputs = corners.repeat(40, axis=0) + 0.4 * gen.standard_normal((160, 2))
targets = labels[:, None].astype(float)

Wa = gen.standard_normal((2, WIDTH)) * 0.3
ba = np.zeros((1, WIDTH))
Wb = gen.standard_normal((WIDTH, 1)) * 0.3
bb = np.zeros((1, 1))
rate = 0.3
for epoch in range(3000):
    hidden = np.tanh(inputs @ Wa + ba)
    out = 1.0 / (1.0 + np.exp(-(hidden @ Wb + bb)))
    cost = -np.mean(targets * np.log(out) + (1 - targets) * np.log(1 - out))
    g_out = (out - targets) / len(inputs)
    g_Wb = hidden.T @ g_out
    g_bb = g_out.sum(axis=0, keepdims=True)
    g_hidden = g_out @ Wb.T * (1 - hidden ** 2)
    g_Wa = inputs.T @ g_hidden
    g_ba = g_hidden.sum(axis=0, keepdims=True)
    Wa -= rate * g_Wa
    ba -= rate * g_ba
    Wb -= rate * g_Wb
    bb -= rate * g_bb
    if epoch % 500 == 0:
        print(epoch, cost)
'''


def codes(report: dict) -> list[str]:
    return [f["name"] for f in report["findings"]]


def test_one_hidden_unit_is_named_as_a_network_that_cannot_fit_not_as_a_small_rate(tmp_path):
    path = planted(tmp_path, "one_unit.py", PROGRAM, "WIDTH = 1", "WIDTH = 1")
    report = check(path, training=True)
    assert codes(report) == ["step-cannot-overfit"], codes(report)
    (finding,) = report["findings"]
    # the statement that sets the rate its step ran with, as for a rate the settings name (`rate_setting`)
    assert finding["line"] == line_of(path, "rate = 0.3")
    assert replayed(report)["tiny"]["samples"] == 5


def test_six_hidden_units_fit_and_nothing_is_said(tmp_path):
    path = planted(tmp_path, "six_units.py", PROGRAM, "WIDTH = 1", "WIDTH = 6")
    report = check(path, training=True)
    assert report["findings"] == [], codes(report)
