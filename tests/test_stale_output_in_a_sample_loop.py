"""Stochastic gradient descent one sample at a time, whose error reads a prediction made before the
loop over the samples (`pred = X @ w + b` above it, `err = pred[i] - y[i]` inside): every update after
the first uses the weights as the loop began, the loop adds up a full-batch step as many times too
large as it has samples, and the loss rises. The statement that reads the old prediction is named,
not the learning rate; the same loop computing its error from the weights as they are is checked as
a training step, with the squared error its gradient implies, and is clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(150, 4))
y = X @ np.array([1.5, -2.0, 0.5, 3.0]) - 0.5 + 0.1 * rng.normal(size=150)

w = np.zeros(4)
b = 0.0
for epoch in range(20):
    pred = X @ w + b
    print(epoch, np.mean((pred - y) ** 2))
    for i in rng.permutation(150):
        err = X[i] @ w + b - y[i]
        grad_w = 2 * err * X[i]
        grad_b = 2 * err
        w = w - 0.05 * grad_w
        b = b - 0.05 * grad_b
'''

RIGHT = "        err = X[i] @ w + b - y[i]\n"


def test_the_stale_error_is_named(tmp_path):
    path = planted(tmp_path, "sgd.py", PROGRAM, RIGHT, "        err = pred[i] - y[i]\n")
    report = check(path, training=True)
    (error,) = errors(report)
    assert error["code"] == "BPD625"
    assert error["line"] == line_of(path, "err = pred[i] - y[i]")
    assert "computed at line 10 from `w` and `b`" in error["message"]


def test_the_fresh_error_is_replayed_and_clean(tmp_path):
    report = check(planted(tmp_path, "sgd.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"w": False, "b": False}
