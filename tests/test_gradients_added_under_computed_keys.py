"""A backward function that adds every parameter's gradient under a key it builds in a loop
(`grads["W" + k] += ...` for k in the branches' names): a wrong update is placed at that line, where
its gradient is made, not at the `grads = {k: np.zeros_like(v) ...}` the sums start from."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PROGRAM = """
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(30, 4))
Y = rng.normal(size=(30, 2))
params = {"Wa": rng.normal(scale=0.3, size=(4, 2)), "Wb": rng.normal(scale=0.3, size=(4, 2))}


def forward(X, p):
    return {"a": np.tanh(X @ p["Wa"]), "b": X @ p["Wb"]}


def backward(X, Y, outs, p):
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    err = (outs["a"] + outs["b"] - Y) / len(X)
    local = {"a": err * (1 - outs["a"] ** 2), "b": err}
    for k in ("a", "b"):
        grads["W" + k] += X.T @ local[k]
    return grads


for it in range(100):
    outs = forward(X, params)
    loss = 0.5 * np.sum((outs["a"] + outs["b"] - Y) ** 2) / len(X)
    grads = backward(X, Y, outs, params)
    for k in params:
        params[k] -= 0.2 * grads[k]
"""

ADDED = 'grads["W" + k] += X.T @ local[k]'
SLOPE = 'local = {"a": err * (1 - outs["a"] ** 2), "b": err}'
SLOPE_WRONG = 'local = {"a": err * (1 - outs["a"]), "b": err}'


def test_the_correct_program_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "keys.py", PROGRAM, ADDED, ADDED))) == []


def test_a_wrong_sum_under_a_computed_key_is_placed_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "keys.py", PROGRAM, SLOPE, SLOPE_WRONG)
    (found,) = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert (found["param"], found["line"]) == ("params['Wa']", line_of(path, ADDED))
