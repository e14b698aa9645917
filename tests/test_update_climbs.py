"""A layer's own update method that adds the step (`self.W += lr * self.dW`) in a file no program
runs: its gradients are right, so only calling the update after a checked backward shows that the
weights climb the loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

DENSE = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.1
            self.b = np.zeros(n_out)
            self.mW = np.zeros_like(self.W)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T

        def update(self, lr=0.01, beta=0.9):
            self.mW = beta * self.mW + (1 - beta) * self.dW
            self.W -= lr * self.mW
            self.b -= lr * self.db
"""


def test_a_correct_momentum_update_is_clean(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "dense.py", DENSE))) == []


@pytest.mark.parametrize(("correct", "wrong", "param"), [("self.W -= lr * self.mW", "self.W += lr * self.mW", "W"), ("self.b -= lr * self.db", "self.b += lr * self.db", "b")])
def test_an_update_that_adds_the_step_is_named_at_its_line(tmp_path: Path, correct: str, wrong: str, param: str) -> None:
    path = planted(tmp_path, "dense.py", DENSE, correct, wrong)
    (finding,) = errors(check(path))
    assert finding["name"] == "update-climbs" and finding["layer"] == "Dense"
    assert finding["line"] == line_of(path, wrong)
    assert f"`{param}`" in finding["message"] and finding["measured"] > 0.5


def test_a_gradient_stored_negated_and_added_is_one_gradient_finding_not_two(tmp_path: Path) -> None:
    text = DENSE.replace("self.dW = self.x.T @ dout", "self.dW = -(self.x.T @ dout)").replace("self.W -= lr * self.mW", "self.W += lr * self.mW")
    names = [f["name"] for f in errors(check(write(tmp_path, "dense.py", text)))]
    assert "update-climbs" not in names and "gradient-mismatch" in names


def test_a_program_that_trains_the_layer_is_judged_by_its_replayed_step(tmp_path: Path) -> None:
    program = DENSE.replace("self.W -= lr * self.mW", "self.W += lr * self.mW") + """
    X = np.random.randn(20, 3)
    y = X @ np.ones((3, 1))
    layer = Dense(3, 1)
    for i in range(5):
        out = layer.forward(X)
        loss = np.mean((out - y) ** 2)
        layer.backward(2 * (out - y) / len(X))
        layer.update(0.1)
    """
    names = {f["name"] for f in errors(check(write(tmp_path, "train.py", program)))}
    assert "update-climbs" not in names and "step-gradient-mismatch" in names
