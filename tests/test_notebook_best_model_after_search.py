"""A notebook saved as a script searches hyper-parameters in a loop and keeps the best model
(`best_softmax = None`, then `best_softmax = softmax` inside the loop), then reads it
(`w = best_softmax.W[:-1, :]`). Loading the file's definitions drops the search loop, so the best
model is still None: the statement that reads it must be dropped too, not reported as the user's
load error, and the loss function above it is checked."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

NOTEBOOK = '''\
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(num_train), y]).mean() + reg * np.sum(W * W)
    dscores = probs
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train + 2 * reg * W
    return loss, dW


class Softmax:
    def __init__(self, dim, classes):
        self.W = 0.001 * np.random.randn(dim, classes)

    def train(self, X, y, learning_rate, reg, num_iters=50):
        for it in range(num_iters):
            loss, grad = softmax_loss_vectorized(self.W, X, y, reg)
            self.W -= learning_rate * grad


X_train = np.random.randn(40, 6)
y_train = np.random.randint(0, 3, 40)
best_val = -1
best_softmax = None
for lr in [1e-7, 5e-7]:
    for reg in [2.5e4, 5e4]:
        softmax = Softmax(6, 3)
        softmax.train(X_train, y_train, lr, reg)
        best_softmax = softmax

w = best_softmax.W[:-1, :]
w = w.reshape(2, 5 // 2, 3)
'''


def test_reading_the_best_model_of_a_dropped_search_is_not_a_load_error(tmp_path):
    report = check(write(tmp_path, "softmax.py", NOTEBOOK), "--no-run")
    assert [f for f in report["findings"] if f["name"] == "load-error"] == []
    assert errors(report) == []
    assert any(m["layer"].startswith("softmax_loss_vectorized") for m in report["measurements"])


def test_a_wrong_gradient_in_such_a_notebook_is_still_found(tmp_path):
    path = planted(tmp_path, "softmax.py", NOTEBOOK, "dW = X.T.dot(dscores) / num_train", "dW = X.T.dot(dscores)")
    assert any(f["name"] in ("gradient-mismatch", "loss-not-mean") for f in errors(check(path, "--no-run")))
