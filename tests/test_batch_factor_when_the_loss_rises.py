"""The issue's own example: a script whose loss is a mean over the batch while `grad_scores` is never
divided by the batch size. Every gradient is 64 × the loss's; when the program's loss rises with it,
that is the reason, an error at `grad_scores`; when it falls all the same (a small learning rate
absorbs the factor), it stays a warning about the scale."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(0)
N, D, H, C = 64, 10, 20, 3
X = np.random.randn(N, D)
y = np.random.randint(0, C, N)
W1 = 0.1 * np.random.randn(D, H)
b1 = np.zeros(H)
W2 = 0.1 * np.random.randn(H, C)
b2 = np.zeros(C)
lr = 0.5
for it in range(200):
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    grad_scores = probs.copy()
    grad_scores[np.arange(N), y] -= 1
    grad_scores /= N
    dW2 = h.T @ grad_scores
    db2 = grad_scores.sum(axis=0)
    dh = grad_scores @ W2.T
    dh[h <= 0] = 0
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

DIVIDED = "    grad_scores /= N\n"


def test_the_divided_gradients_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "two_layer.py", SCRIPT), training=True)) == []


def test_gradients_never_divided_by_the_batch_are_why_the_loss_rises(tmp_path):
    path = planted(tmp_path, "two_layer.py", SCRIPT, DIVIDED, "")
    report = check(path, training=True)
    (finding,) = errors(report)
    assert (finding["name"], finding["param"], finding["line"]) == ("step-gradient-mismatch", "grad_scores", line_of(path, "grad_scores[np.arange(N), y] -= 1"))
    assert "is 64 × the gradient of your loss (64 is the batch size)" in finding["message"]
    assert finding["message"].endswith("divide it by the batch size (64)")
    assert report["verdict"].split(": ", 1)[1].startswith("the loss rises because `grad_scores`")


def test_the_same_factor_under_a_rate_small_enough_is_a_warning(tmp_path):
    path = planted(tmp_path, "two_layer.py", SCRIPT.replace(DIVIDED, ""), "lr = 0.5", "lr = 0.005")
    report = check(path, training=True)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]
    assert finding["severity"] == "warning"
    assert "as if the learning rate were multiplied by 64" in finding["message"]
