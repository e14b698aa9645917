"""A derivative written from an activation's input (`1 - np.tanh(v) ** 2`, `s(v) * (1 - s(v))`) handed the
activation's output, where that output comes from another function: the backward function's parameter, or
an item of the cache dict the forward function returns (`A1 = cache["A1"]`). The value is followed to where
the forward function makes it, so the wrong gradients of the first layer are one finding at the derivative's
line, not one per parameter at the lines that use it."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

CACHED = """\
import numpy as np

gen = np.random.default_rng(9)
X = gen.normal(size=(160, 3))
y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(float).reshape(-1, 1)


def logistic(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward_pass(net, X):
    A1 = np.tanh(X @ net["W1"] + net["b1"])
    P = logistic(A1 @ net["W2"] + net["b2"])
    cache = {"A1": A1, "P": P}
    return P, cache


def backward_pass(net, X, y, cache):
    A1 = cache["A1"]
    P = cache["P"]
    m = len(X)
    dZ2 = (P - y) / m
    dZ1 = (dZ2 @ net["W2"].T) * (1 - A1 ** 2)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


net = {"W1": gen.normal(scale=0.5, size=(3, 12)), "b1": np.zeros(12),
       "W2": gen.normal(scale=0.5, size=(12, 1)), "b2": np.zeros(1)}
for step in range(1500):
    P, cache = forward_pass(net, X)
    cost = -np.mean(y * np.log(P) + (1 - y) * np.log(1 - P))
    grads = backward_pass(net, X, y, cache)
    for name in net:
        net[name] -= 0.8 * grads[name]
"""

HANDED = """\
import numpy as np

rs = np.random.RandomState(17)
inputs = rs.uniform(-1.5, 1.5, (140, 2))
labels = ((inputs ** 2).sum(axis=1) < 1.1).astype(float)[:, None]


def squash(v):
    return 1.0 / (1.0 + np.exp(-v))


def predict(weights, inputs):
    hidden = squash(inputs @ weights[0] + weights[1])
    prob = squash(hidden @ weights[2] + weights[3])
    return hidden, prob


def gradients(weights, inputs, labels, hidden, prob):
    count = inputs.shape[0]
    d_out = (prob - labels) / count
    d_hidden = d_out @ weights[2].T
    d_pre = d_hidden * hidden * (1 - hidden)
    return [inputs.T @ d_pre, d_pre.sum(axis=0), hidden.T @ d_out, d_out.sum(axis=0)]


weights = [rs.randn(2, 9), np.zeros(9), rs.randn(9, 1), np.zeros(1)]
for it in range(1200):
    hidden, prob = predict(weights, inputs)
    loss = -np.mean(labels * np.log(prob) + (1 - labels) * np.log(1 - prob))
    grads = gradients(weights, inputs, labels, hidden, prob)
    for i in range(4):
        weights[i] -= 1.5 * grads[i]
"""

CASES = {
    "cache-dict": (CACHED, "(1 - A1 ** 2)", "(1 - np.tanh(A1) ** 2)", "tanh", "np.tanh(A1)", "A1", "A1 = np.tanh("),
    "returned-tuple": (
        HANDED, "d_hidden * hidden * (1 - hidden)", "d_hidden * squash(hidden) * (1 - squash(hidden))", "sigmoid", "squash(hidden)", "hidden",
        "hidden = squash(",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_correct_twin_is_clean(tmp_path, case):
    assert errors(check(write(tmp_path, "net.py", CASES[case][0]))) == []


@pytest.mark.parametrize("case", list(CASES))
def test_the_activation_applied_again_is_named_at_the_derivatives_line(tmp_path, case):
    text, right, wrong, activation, call, given, made = CASES[case]
    path = planted(tmp_path, "net.py", text, right, wrong)
    (finding,) = errors(check(path))
    line = line_of(path, wrong)
    assert (finding["code"], finding["line"], finding["pattern"]) == ("BPD108", line, "derivative-of-output")
    assert (
        f"line {line} applies {activation} again (`{call}`) to `{given}`, which is already {activation}'s output "
        f"(line {line_of(path, made)})"
    ) in finding["message"]
