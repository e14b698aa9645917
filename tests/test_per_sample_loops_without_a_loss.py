"""A minibatch step that adds up per-sample gradients in a loop of its own and computes no loss.

    for start in range(0, n, batch):
        gW1 = np.zeros_like(W1); ...                 # reset for this batch
        for x, y in zip(X[start:start + batch], Y[start:start + batch]):
            ...                                      # one sample's forward pass
            e = out - y                              # its output error: no loss anywhere
            gW2 += np.outer(h, e); ...
        W1 -= lr * gW1 / batch; ...

The loss is the one the output error implies, summed over the samples the inner loop visits: the
replay adds that sum to the inner loop, tries each usual loss, and judges the updates by the one
they follow. A reset left out (the sums made once, before the loop) is named as gradients that
add up across steps.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed, step_verdicts

PROGRAM = """
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(60, 3))
Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
W1 = rng.normal(scale=0.5, size=(3, 7))
b1 = np.zeros(7)
W2 = rng.normal(scale=0.5, size=(7, 1))
b2 = np.zeros(1)
gW1, gb1, gW2, gb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
batch, lr = 10, 0.1
for epoch in range(40):
    for start in range(0, len(X), batch):
        gW1, gb1, gW2, gb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
        for x, y in zip(X[start:start + batch], Y[start:start + batch]):
            h = np.tanh(x @ W1 + b1)
            out = h @ W2 + b2
            e = out - y
            gW2 += np.outer(h, e)
            gb2 += e
            d1 = (W2 @ e) * (1 - h ** 2)
            gW1 += np.outer(x, d1)
            gb1 += d1
        W1 -= lr * gW1 / batch
        b1 -= lr * gb1 / batch
        W2 -= lr * gW2 / batch
        b2 -= lr * gb2 / batch
"""

RESET = "        gW1, gb1, gW2, gb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)\n        for x, y"
NO_RESET = "        for x, y"
SLOPE = "d1 = (W2 @ e) * (1 - h ** 2)"
SLOPE_LEFT_OUT = "d1 = W2 @ e"


def test_a_correct_per_sample_step_is_judged_by_the_squared_error_its_error_implies(tmp_path: Path) -> None:
    path = planted(tmp_path, "per_sample.py", PROGRAM, SLOPE, SLOPE)
    report = check(path)
    assert errors(report) == []
    assert step_verdicts(report) == {"W1": "ok", "b1": "ok", "W2": "ok", "b2": "ok"}
    assert replayed(report)["loss"] == "0.5·Σ(out − y)² summed over its samples"


def test_a_slope_left_out_of_a_per_sample_step_is_an_error_on_the_hidden_layer(tmp_path: Path) -> None:
    path = planted(tmp_path, "per_sample.py", PROGRAM, SLOPE, SLOPE_LEFT_OUT)
    report = check(path)
    assert {f["param"] for f in errors(report)} <= {"W1", "b1"}
    assert errors(report)
    assert step_verdicts(report)["W2"] == "ok" and step_verdicts(report)["b2"] == "ok"
    assert {step_verdicts(report)["W1"], step_verdicts(report)["b1"]} == {"mismatch"}


def test_sums_never_reset_in_a_per_sample_step_are_named_as_adding_up_across_steps(tmp_path: Path) -> None:
    path = planted(tmp_path, "per_sample.py", PROGRAM, RESET, NO_RESET)
    report = check(path)
    found = errors(report)
    assert {f["pattern"] for f in found} == {"accumulated-across-steps"}
    assert {f["param"] for f in found} == {"W1", "b1", "W2", "b2"}
    # each named where the per-sample loop adds to its sum
    finding = next(f for f in found if f["param"] == "W1")
    assert finding["line"] == line_of(path, "gW1 += np.outer(x, d1)")
    once = line_of(path, "gW1, gb1, gW2, gb2 = np.zeros_like(W1)")
    assert f"(set to zero only once, before the loop, at line {once})" in finding["message"]
    assert "set `gW1 = np.zeros_like(W1)` at the start of each step" in finding["message"]
