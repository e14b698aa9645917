"""A training step that updates a dict of parameters of any name by walking its keys
(`for name in P: P[name] -= lr * ...`, plain or behind Adam's moments or a velocity) is found as a
training step, so a wrong gradient in the function it calls is named at its line by the replay;
the correct twins are clean and still replayed."""

from __future__ import annotations

import pytest

from test_adam_crossed_correction import FUNCTION as ADAM  # Adam over `for name in P:`, its corrections right
from userfiles import check, errors, line_of, planted

MOMENTUM = """\
    import numpy as np

    np.random.seed(5)
    data = np.random.randn(120, 3)
    labels = (data.sum(axis=1, keepdims=True) > 0).astype(float)
    M = {"w1": np.random.randn(3, 8) * 0.5, "w2": np.random.randn(8, 1) * 0.5}
    V = {k: np.zeros_like(a) for k, a in M.items()}

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def backprop(M, x, t):
        a = sigmoid(x @ M["w1"])
        p = sigmoid(a @ M["w2"])
        cost = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        dz2 = (p - t) / len(x)
        da = dz2 @ M["w2"].T
        return cost, {"w2": a.T @ dz2, "w1": x.T @ (da * a * (1 - a))}

    step_size = 0.5
    for epoch in range(200):
        cost, D = backprop(M, data, labels)
        for n in M.keys():
            V[n] = 0.9 * V[n] + D[n]
            M[n] -= step_size * V[n]
        if epoch % 40 == 0:
            print(epoch, cost)
"""

CASES = [
    pytest.param(ADAM, "dh = (e @ P[\"B\"].T) * (1 - h * h)", "dh = (e @ P[\"B\"].T) * (1 - h)", id="adam-over-the-keys-of-P"),
    pytest.param(MOMENTUM, '"w1": x.T @ (da * a * (1 - a))', '"w1": x.T @ (da * (1 - a))', id="velocity-over-M-keys"),
]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_a_wrong_gradient_under_a_key_loop_update_is_found_by_the_step_replay(tmp_path, program, correct, wrong):
    path = planted(tmp_path, "train.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["line"] == line_of(path, wrong.strip()), report["findings"]
    assert any(m["layer"] == "training step" for m in report["measurements"]), report["measurements"]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_the_correct_twins_are_replayed_and_clean(tmp_path, program, correct, wrong):
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    assert not errors(report), errors(report)
    assert "training step" in report["verdict"], report["verdict"]
