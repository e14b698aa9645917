"""A loss function that calls its scores `logits` and normalises them down the batch axis.

`batch_coupling._loss_finding` names the reduction of a `softmax_loss(x, y)` that runs over the batch,
leaving out the loss's own sum of log-probabilities. That sum was told apart by the letters `log` in
the reduction, which `np.sum(np.exp(shifted_logits), axis=0)` holds too: the softmax's own sum was
taken for the loss's, and the finding fell back to the function's `def` line. The program here is
written for this test: a cs231n-style two-layer net whose log-softmax sums over axis 0.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def softmax_loss(logits, y):
    shifted_logits = logits - np.max(logits, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = logits.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dlogits = probs.copy()
    dlogits[np.arange(N), y] -= 1
    dlogits /= N
    return loss, dlogits


rng = np.random.default_rng(0)
X = rng.standard_normal((60, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
W1 = 0.3 * rng.standard_normal((4, 16))
b1 = np.zeros(16)
W2 = 0.3 * rng.standard_normal((16, 3))
b2 = np.zeros(3)
lr = 0.5
for it in range(200):
    h = np.maximum(0, X @ W1 + b1)
    logits = h @ W2 + b2
    loss, dlogits = softmax_loss(logits, y)
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ W2.T
    dh[h <= 0] = 0
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
    if it % 50 == 0:
        print(it, loss)
'''

RIGHT = "Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)"
WRONG = "Z = np.sum(np.exp(shifted_logits), axis=0, keepdims=True)"


def test_the_softmax_sum_over_the_batch_is_named_although_its_scores_are_called_logits(tmp_path):
    path = planted(tmp_path, "logits_net.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    coupling = [f for f in errors(report) if f["code"] == "BPD302"]
    assert coupling, report["findings"]
    line = line_of(path, WRONG)
    assert coupling[0]["line"] == line, coupling[0]
    assert f"(line {line}: `np.sum(np.exp(shifted_logits), axis=0, keepdims=True)` reduces over axis 0" in coupling[0]["message"]
    # the loss's own sum of log-probabilities is still left out
    assert line_of(path, "loss = -np.sum(log_probs") not in coupling[0]["highlight"]


def test_the_same_program_with_a_per_row_softmax_has_no_coupling(tmp_path):
    path = planted(tmp_path, "logits_net.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert not [f for f in report["findings"] if f["code"] in ("BPD302", "BPD301")], report["findings"]
    assert not errors(report), errors(report)
