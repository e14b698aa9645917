"""Two updates on one line (`W2 -= lr * dW2; b2 -= lr * db2`) are two updates: each is taken apart
from its own statement, so the second is compared with its own gradient, not the first's."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(4)
X = rng.standard_normal((16, 2))
Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
W1 = rng.standard_normal((2, 5)); b1 = np.zeros((1, 5))
W2 = rng.standard_normal((5, 1)); b2 = np.zeros((1, 1))
lr = 0.5
for epoch in range(200):
    H = np.tanh(X @ W1 + b1); A = 1 / (1 + np.exp(-(H @ W2 + b2)))
    loss = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ2 = (A - Y) / len(X)
    dW2 = H.T @ dZ2; db2 = dZ2.sum(axis=0, keepdims=True)
    dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)
    dW1 = X.T @ dZ1; db1 = dZ1.sum(axis=0, keepdims=True)
    W2 -= lr * dW2; b2 -= lr * db2
    W1 -= lr * dW1; b1 -= lr * db1
"""


def test_a_correct_step_written_two_updates_a_line_is_clean(tmp_path):
    report = check(write(tmp_path, "train.py", SCRIPT))
    assert errors(report) == []
    (step,) = report["extras"]["replay"]
    assert {p["name"] for p in step["parameters"]} == {"W1", "b1", "W2", "b2"}


def test_the_second_update_of_a_line_with_its_sign_flipped_is_found_at_that_line(tmp_path):
    path = write(tmp_path, "train.py", SCRIPT.replace("W1 -= lr * dW1; b1 -= lr * db1", "W1 -= lr * dW1; b1 += lr * db1"))
    report = check(path)
    (finding,) = errors(report)
    assert finding["param"] == "b1" and finding["line"] == line_of(path, "b1 += lr * db1")
    assert "adds `db1`" in finding["message"]
