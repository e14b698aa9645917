"""A derivative written once as a lambda bound to a name (`tanh_slope = lambda out: 1 - out ** 2`) and
applied in the backward pass (`hidden_delta = out_delta.dot(w2.T) * tanh_slope(hidden)`): when it is
wrong, the wrong value is made on the lambda's own line, and that is where the step's finding points,
as it does for a `def` helper, also when the delta is masked in place afterwards (`hidden_delta *= keep`)."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

SCRIPT = """
import numpy as np

rng = np.random.default_rng(21)
inputs = rng.normal(size=(60, 4))
targets = np.tanh(inputs @ rng.normal(size=(4, 2)))

squash = lambda v: np.tanh(v)
tanh_slope = lambda out: 1 - out ** 2

w1 = rng.normal(scale=0.5, size=(4, 9))
w2 = rng.normal(scale=0.5, size=(9, 2))
lr = 0.05
for sweep in range(300):
    hidden = squash(inputs.dot(w1))
    guess = hidden.dot(w2)
    sq_error = np.sum((guess - targets) ** 2) / len(inputs)
    out_delta = 2 * (guess - targets) / len(inputs)
    hidden_delta = out_delta.dot(w2.T) * tanh_slope(hidden)
    w2 -= lr * hidden.T.dot(out_delta)
    w1 -= lr * inputs.T.dot(hidden_delta)
"""

SLOPE = "tanh_slope = lambda out: 1 - out ** 2"
SLOPE_WRONG = "tanh_slope = lambda out: 1 - out"

PROGRAM = """
import numpy as np


def fit(features, labels, epochs=200, rate=0.5, seed=2):
    rng = np.random.default_rng(seed)
    logistic = lambda v: 1.0 / (1.0 + np.exp(-v))
    logistic_deriv = lambda a: a * (1.0 - a)
    weights_in = rng.normal(scale=0.4, size=(features.shape[1], 12))
    weights_out = rng.normal(scale=0.4, size=(12, 1))
    for epoch in range(epochs):
        raw = logistic(features @ weights_in)
        keep = (rng.random(raw.shape) > 0.2) / 0.8
        act = raw * keep
        pred = act @ weights_out
        mse = 0.5 * np.mean((pred - labels) ** 2)
        err_delta = (pred - labels) / len(features)
        act_delta = (err_delta @ weights_out.T) * logistic_deriv(raw)
        act_delta *= keep
        weights_out -= rate * act.T @ err_delta
        weights_in -= rate * features.T @ act_delta
        if epoch % 50 == 0:
            print(epoch, mse)
    return weights_in, weights_out


if __name__ == "__main__":
    data_rng = np.random.default_rng(0)
    X = data_rng.normal(size=(80, 3))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    fit(X, y)
"""

DERIV = "    logistic_deriv = lambda a: a * (1.0 - a)"
DERIV_WRONG = "    logistic_deriv = lambda a: (1.0 - a)"


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "script.py", SCRIPT, SLOPE, SLOPE))) == []
    assert errors(check(planted(tmp_path, "program.py", PROGRAM, DERIV, DERIV))) == []


def test_a_wrong_lambda_derivative_is_named_on_its_own_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "script.py", SCRIPT, SLOPE, SLOPE_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and found[0]["line"] == line_of(path, SLOPE_WRONG), found
    assert "`tanh_slope`" in found[0]["message"]


def test_a_wrong_lambda_in_a_function_with_the_delta_masked_afterwards(tmp_path: Path) -> None:
    path = planted(tmp_path, "program.py", PROGRAM, DERIV, DERIV_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and found[0]["line"] == line_of(path, DERIV_WRONG.strip()), found
    assert "`logistic_deriv`" in found[0]["message"]
