"""A bias moved in place by a number times a sum over rows (`b -= 0.5 * d.sum(0)`, beside
`W -= 0.5 * X.T @ d`) is an update of the training step.

The update reader took a written number times a matrix product, or times a name spelled like a
gradient (`db`, `grad_b`), as a step; a bias's step is neither, so the bias was never measured and
a wrong one was never named: the report listed `W` alone. Two styles: a script (both updates on one
line, and on two) and a function that updates its arguments in place; correct twins are clean, and
a bias stepped along the wrong array (`p.sum(0)`, the probabilities before the label is taken off)
is named. Real CLI, in a subprocess."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(150, 4))
y = (X[:, 0] - X[:, 1] > 0).astype(int)
W = rng.normal(size=(4, 2)) * 0.1
b = np.zeros(2)
for epoch in range(100):
    z = X @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(150), y]).mean()
    d = p.copy()
    d[np.arange(150), y] -= 1
    d /= 150
    W -= 0.5 * X.T @ d; b -= 0.5 * d.sum(0)
    if epoch % 20 == 0:
        print(epoch, loss)
'''

FUNCTION = '''\
import numpy as np


def train_step(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    loss = 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))
    e = (out - Y) / len(X)
    eh = (e @ W2.T) * (1 - h ** 2)
    W2 -= 0.1 * h.T @ e
    b2 -= 0.1 * np.sum(e, axis=0)
    W1 -= 0.1 * X.T @ eh
    b1 -= 0.1 * eh.sum(axis=0)
    return loss


rng = np.random.default_rng(2)
X = rng.normal(size=(64, 3))
Y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
W1 = rng.normal(size=(3, 10)) * 0.5
b1 = np.zeros(10)
W2 = rng.normal(size=(10, 2)) * 0.5
b2 = np.zeros(2)
for it in range(300):
    loss = train_step(W1, b1, W2, b2, X, Y)
    if it % 100 == 0:
        print(it, loss)
'''


@pytest.mark.parametrize("one_line", [True, False])
def test_a_script_bias_stepped_by_a_sum_is_measured(tmp_path, one_line):
    source = SCRIPT if one_line else SCRIPT.replace("W -= 0.5 * X.T @ d; b -= 0.5 * d.sum(0)", "W -= 0.5 * X.T @ d\n    b -= 0.5 * d.sum(0)")
    report = check(write(tmp_path, "softmax_script.py", source), training=True)
    assert errors(report) == []
    assert step_verdicts(report) == {"W": "ok", "b": "ok"}


def test_a_script_bias_stepped_along_the_probabilities_is_named(tmp_path):
    source = SCRIPT.replace("W -= 0.5 * X.T @ d; b -= 0.5 * d.sum(0)", "W -= 0.5 * X.T @ d\n    b -= 0.5 * d.sum(0)")
    path = planted(tmp_path, "softmax_script.py", source, "b -= 0.5 * d.sum(0)", "b -= 0.5 * p.sum(0)")
    report = check(path, training=True)
    assert step_verdicts(report)["b"] != "ok" and step_verdicts(report)["W"] == "ok"
    assert any(f["line"] == line_of(path, "b -= 0.5 * p.sum(0)") for f in errors(report)), errors(report)


def test_a_function_stepping_its_biases_by_sums_in_place_is_measured(tmp_path):
    report = check(write(tmp_path, "tanh_regression.py", FUNCTION), training=True)
    assert errors(report) == []
    assert step_verdicts(report) == {"W1": "ok", "b1": "ok", "W2": "ok", "b2": "ok"}


def test_a_function_bias_summed_before_its_slope_is_named(tmp_path):
    path = planted(tmp_path, "tanh_regression.py", FUNCTION, "b1 -= 0.1 * eh.sum(axis=0)", "b1 -= 0.1 * (e @ W2.T).sum(axis=0)")
    report = check(path, training=True)
    assert step_verdicts(report)["b1"] != "ok"
    assert errors(report)
