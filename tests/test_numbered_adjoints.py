"""Adjoints named by the layer's number alone (`d2`, `d1`), as many tutorials write them.

`d2` is the gradient of `z2`, the output layer's input, and `d1` that of `z1`, the hidden layer's:
the walk pairs each with the value of its number, so a wrong `d1` is named at its own line.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PROGRAM = """
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(30, 5))
Y = (X[:, :2].sum(axis=1, keepdims=True) > 0).astype(float)


class Net:
    def __init__(self):
        self.W1 = rng.normal(scale=0.5, size=(5, 6))
        self.W2 = rng.normal(scale=0.5, size=(6, 1))

    def train(self, X, Y, lr=0.5, epochs=200):
        for epoch in range(epochs):
            z1 = X @ self.W1
            h = np.tanh(z1)
            z2 = h @ self.W2
            out = 1 / (1 + np.exp(-z2))
            loss = 0.5 * np.sum((out - Y) ** 2) / len(X)
            d2 = (out - Y) * out * (1 - out) / len(X)
            d1 = (d2 @ self.W2.T) * (1 - h ** 2)
            self.W2 -= lr * h.T @ d2
            self.W1 -= lr * X.T @ d1
        return loss


Net().train(X, Y)
"""

HIDDEN = "d1 = (d2 @ self.W2.T) * (1 - h ** 2)"
HIDDEN_SLOPE_LEFT_OUT = "d1 = d2 @ self.W2.T"


def test_the_correct_network_with_numbered_adjoints_is_clean(tmp_path: Path) -> None:
    path = planted(tmp_path, "net.py", PROGRAM, HIDDEN, HIDDEN)
    assert errors(check(path)) == []


def test_a_numbered_hidden_adjoint_without_its_slope_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "net.py", PROGRAM, HIDDEN, HIDDEN_SLOPE_LEFT_OUT)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["param"], finding["line"]) == ("d1", line_of(path, HIDDEN_SLOPE_LEFT_OUT))
    assert finding["pattern"] == "missing-activation-derivative"
    assert "`z1`" in finding["message"]
