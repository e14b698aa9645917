"""A training step whose model loss calls a layer pair's backward (`dh = tanh_backward(da, cache)`):
when that backward is wrong, the step's first wrong gradient is made inside it, and the step's
finding points at the line of the backward that makes it, not at the call."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PROGRAM = """
import numpy as np


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    dx = dout * (1 - cache ** 2)
    return dx


def model_loss(params, X, y):
    h, c1 = affine_forward(X, params["W1"], params["b1"])
    a, c2 = tanh_forward(h)
    out, c3 = affine_forward(a, params["W2"], params["b2"])
    loss = 0.5 * np.mean((out - y) ** 2)
    dout = (out - y) / len(X)
    grads = {}
    da, grads["W2"], grads["b2"] = affine_backward(dout, c3)
    dh = tanh_backward(da, c2)
    _, grads["W1"], grads["b1"] = affine_backward(dh, c1)
    return loss, grads


rng = np.random.default_rng(5)
X = rng.normal(size=(50, 3))
y = np.sin(X[:, :1])
params = {"W1": rng.normal(scale=0.5, size=(3, 8)), "b1": np.zeros(8), "W2": rng.normal(scale=0.5, size=(8, 1)), "b2": np.zeros(1)}
for it in range(200):
    loss, grads = model_loss(params, X, y)
    for k in params:
        params[k] -= 0.1 * grads[k]
"""

SLOPE = "    dx = dout * (1 - cache ** 2)"
SLOPE_WRONG = "    dx = dout * (1 - cache)"


def test_the_correct_program_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "pairs.py", PROGRAM, SLOPE, SLOPE))) == []


def test_the_steps_finding_points_inside_the_wrong_backward(tmp_path: Path) -> None:
    path = planted(tmp_path, "pairs.py", PROGRAM, SLOPE, SLOPE_WRONG)
    (step,) = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert (step["param"], step["line"]) == ("dh", line_of(path, SLOPE_WRONG.strip()))
    assert f"`tanh_backward` computes it (line {line_of(path, SLOPE_WRONG.strip())})" in step["message"]
