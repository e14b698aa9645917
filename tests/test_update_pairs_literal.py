"""A script that updates its parameters through a loop over a literal of (parameter, gradient) pairs
(`for p, g in ((W1, dW1), (b1, db1), ...): p -= lr * g`), on minibatches drawn at random, with
dropout and an L2 penalty in both the loss and the gradients: the pairs are read as updates, the
random draws are replayed identically, the right program is clean, and a dropout mask forgotten in
the backward pass is found."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, write

SCRIPT = """\
import numpy as np

np.random.seed(0)
N, D, H, C = 120, 10, 32, 3
X = np.random.randn(N, D)
y = np.random.randint(0, C, N)
W1 = np.random.randn(D, H) * np.sqrt(2 / D)
b1 = np.zeros(H)
W2 = np.random.randn(H, C) * np.sqrt(2 / H)
b2 = np.zeros(C)
reg, lr, keep = 1e-3, 0.1, 0.8
for it in range(300):
    idx = np.random.choice(N, 32, replace=False)
    xb, yb = X[idx], y[idx]
    h = np.maximum(0, xb @ W1 + b1)
    mask = (np.random.rand(*h.shape) < keep) / keep
    h *= mask
    scores = h @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(32), yb]).mean() + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(32), yb] -= 1
    dscores /= 32
    dW2 = h.T @ dscores + reg * W2
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dh *= mask
    dh[h <= 0] = 0
    dW1 = xb.T @ dh + reg * W1
    db1 = dh.sum(axis=0)
    for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
        p -= lr * g
"""


def test_pairs_in_a_literal_are_updates_and_the_right_program_is_clean(tmp_path):
    report = check(write(tmp_path, "dropout.py", SCRIPT))
    assert errors(report) == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"W1": False, "b1": False, "W2": False, "b2": False}


def test_a_dropout_mask_forgotten_in_backward_is_found(tmp_path):
    path = planted(tmp_path, "dropout.py", SCRIPT, "    dh *= mask\n", "")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found
