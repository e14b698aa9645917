"""A loop whose every pass is one call of a function that makes the whole step itself.

    for ids, label in data:
        total += train_step(ids, label, lr)   # forward, backward and updates inside, loss returned

The loop's own pass has no forward pass to replay, so the step is the function's body: its
statements from the first that reads a parameter to the last update, run as one pass on the
arguments of the loop's first call. A mean over a list of ids whose gradient is not divided by
that list's length is named with the length."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed

PROGRAM = """
import numpy as np

rng = np.random.default_rng(2)
docs = [[0, 3, 5], [1, 4], [2, 5, 6, 7], [0, 1], [3, 6, 7], [2, 4, 5]]
labels = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
embed = rng.normal(scale=0.3, size=(8, 5))
w = rng.normal(scale=0.3, size=5)


def train_step(ids, label, lr):
    global w
    h = embed[ids].mean(axis=0)
    p = 1.0 / (1.0 + np.exp(-(h @ w)))
    loss = -(label * np.log(p) + (1 - label) * np.log(1 - p))
    dz = p - label
    dw = dz * h
    dh = dz * w
    w = w - lr * dw
    for i in ids:
        embed[i] -= lr * dh / len(ids)
    return loss


for epoch in range(100):
    total = 0.0
    for ids, label in zip(docs, labels):
        total += train_step(ids, label, 0.5)
"""

MEAN = "embed[i] -= lr * dh / len(ids)"
SUM = "embed[i] -= lr * dh"


def test_a_correct_step_made_inside_the_called_function_is_replayed_and_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "bag.py", PROGRAM, MEAN, MEAN))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "loss"
    assert {p["name"] for p in step["parameters"]} >= {"w", "embed[0]", "embed[3]", "embed[5]"}
    assert not any(p["wrong"] for p in step["parameters"])


def test_a_mean_whose_gradient_is_not_divided_by_the_lists_length_is_named_with_it(tmp_path: Path) -> None:
    path = planted(tmp_path, "bag.py", PROGRAM, MEAN, SUM)
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "dh = dz * w")
    assert "3 × the gradients of your loss (3 is the length of `ids`)" in finding["message"]
    assert "divide them by the length of `ids` (3)" in finding["message"]
