"""A cs231n loss function returns `loss, dx`: when its dx is wrong, the finding is shown where dx
is computed, and its fix rewrites dx, never the loss line (it used to suggest `loss = ... / N / N`)."""

from __future__ import annotations

from tests.userfiles import check, line_of, planted

PROGRAM = """\
import numpy as np


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


np.random.seed(1)
X = np.random.randn(32, 5)
y = np.random.randint(3, size=32)
W = 0.1 * np.random.randn(5, 3)
for it in range(50):
    loss, ds = softmax_loss(X @ W, y)
    W -= 0.5 * X.T @ ds
"""


def test_a_dx_left_undivided_is_shown_where_dx_is_computed(tmp_path):
    path = planted(tmp_path, "softmax_pair.py", PROGRAM, "    dx /= N\n", "")
    report = check(path)
    (finding,) = [f for f in report["findings"] if f["code"] == "BPD101" and f["layer"] == "softmax_loss"]
    loss_line = line_of(path, "loss = -np.sum")
    assert finding["line"] in (line_of(path, "dx = np.exp"), line_of(path, "dx[np.arange(N), y] -= 1"))
    assert finding["line"] != loss_line
    assert "loss" not in (finding["fix"] or "").split("=")[0]
    assert not (finding["fix"] or "").startswith("dx[np.arange(N), y] =")  # not `= (1) / N`: that drops the probabilities
