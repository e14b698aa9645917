"""A learning rate read from a settings dictionary (`W1 -= settings["lr"] * gW1`) is the update's
rate, as `lr * gW1` is: the gradient the update follows is `gW1`, not `0.05 × gW1`, so a right
gradient is no "constant factor" error, a wrong one is still found, and a rate too high is named at
the dictionary's entry."""

from __future__ import annotations

import ast

from backprop_doctor.static.steps import _take_rate
from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

SCRIPT = """\
    import numpy as np

    settings = {"width": 10, "lr": 0.05, "steps": 200}

    g = np.random.RandomState(4)
    X = g.uniform(-1, 1, (150, 3))
    t = (X[:, 0] * X[:, 1] - X[:, 2]).reshape(-1, 1)
    W1 = 0.6 * g.randn(3, settings["width"])
    b1 = np.zeros(settings["width"])
    W2 = 0.6 * g.randn(settings["width"], 1)
    b2 = np.zeros(1)

    for step in range(settings["steps"]):
        h = np.tanh(X @ W1 + b1)
        out = h @ W2 + b2
        loss = np.mean((out - t) ** 2)
        dout = 2 * (out - t) / len(X)
        gW2 = h.T @ dout
        gb2 = dout.sum(axis=0)
        dpre = dout @ W2.T * (1 - h ** 2)
        gW1 = X.T @ dpre
        gb1 = dpre.sum(axis=0)
        W1 -= settings["lr"] * gW1
        b1 -= settings["lr"] * gb1
        W2 -= settings["lr"] * gW2
        b2 -= settings["lr"] * gb2
    print(loss)
"""


def test_the_rate_of_a_settings_dictionary_is_taken_out_of_the_step():
    step = ast.parse('settings["lr"] * gW1', mode="eval").body
    assert _take_rate(step) == ("settings['lr']", "gW1")
    other = ast.parse('settings["width"] * gW1', mode="eval").body  # not a rate's name: part of the gradient
    assert _take_rate(other)[0] is None


def test_a_script_whose_rate_is_in_a_dictionary_is_clean(tmp_path):
    report = check(write(tmp_path, "dict_rate.py", SCRIPT))
    assert errors(report) == []
    assert step_verdicts(report) == {p: "ok" for p in ("W1", "b1", "W2", "b2")}


def test_a_wrong_gradient_beside_a_rate_in_a_dictionary_is_found(tmp_path):
    path = planted(tmp_path, "dict_rate.py", SCRIPT, "gb1 = dpre.sum(axis=0)", "gb1 = dpre.sum()")
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, "gb1 = dpre.sum()")]


def test_a_rate_too_high_in_a_settings_dictionary_is_named_at_its_entry(tmp_path):
    path = planted(tmp_path, "dict_rate.py", SCRIPT, '"lr": 0.05,', '"lr": 8.0,')
    (finding,) = errors(check(path, training=True))
    assert finding["name"] == "step-rate-too-high"
    assert finding["line"] == line_of(path, '"lr": 8.0,')
    assert finding["fix"].startswith("settings['lr'] = ")
