"""A method that returns the loss and a dict literal of gradients (`return loss, {"W": dW, "b": db}`)
is followed into: a wrong `g["W"]` is named where `dW` is computed, not only at the update."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = """\
import numpy as np


class Regressor:
    def __init__(self, rng):
        self.W = rng.normal(0, 0.1, (4, 1))
        self.b = np.zeros(1)

    def loss_and_grads(self, X, y):
        out = X @ self.W + self.b
        loss = 0.5 * np.mean((out - y) ** 2)
        d = (out - y) / len(X)
        dW = X.T @ d
        db = d.sum(axis=0)
        return loss, {"W": dW, "b": db}


rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4))
y = X @ np.array([[1.0], [-1.0], [0.5], [2.0]])
model = Regressor(rng)
for epoch in range(100):
    loss, g = model.loss_and_grads(X, y)
    model.W -= 0.1 * g["W"]
    model.b -= 0.1 * g["b"]
"""


def test_the_right_script_passes(tmp_path):
    path = planted(tmp_path, "regressor.py", SCRIPT, "", "")
    assert errors(check(path)) == []


def test_a_wrong_entry_is_named_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "regressor.py", SCRIPT, "dW = X.T @ d", "dW = X.T @ d * 3")
    (finding,) = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert line_of(path, "dW = X.T @ d * 3") in finding["highlight"]
