"""A cs231n loss function whose loss is a log-likelihood (the minus sign in front of the log left out)
while its gradient is the cross-entropy's: the regularisation beside it keeps the gradient from
being exactly opposite, yet the line to change is the loss's. A log-sum-exp cross-entropy, whose
log enters with a plus sign and is right, is never taken for one."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SOFTMAX = """\
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train + 2 * reg * W
    return loss, dW
"""

LOG_SUM_EXP = """\
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    correct = scores[np.arange(num_train), y]
    loss = np.sum(np.log(np.sum(np.exp(scores), axis=1)) - correct) / num_train + reg * np.sum(W * W)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    probs[np.arange(num_train), y] -= 1
    dW = X.T.dot(probs) / num_train + 2 * reg * W
    return loss, dW
"""


def test_a_correct_softmax_loss_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "softmax.py", SOFTMAX))) == []


def test_a_loss_without_its_minus_sign_is_blamed_at_the_loss(tmp_path):
    path = planted(tmp_path, "softmax.py", SOFTMAX, "loss = -np.sum(", "loss = np.sum(")
    (found,) = errors(check(path))
    assert (found["pattern"], found["line"]) == ("loss-sign-flipped", line_of(path, "loss = np.sum("))
    assert "put a minus sign in front of the log term" in found["message"]


def test_a_wrong_gradient_beside_a_log_sum_exp_loss_is_blamed_at_the_gradient(tmp_path):
    path = planted(tmp_path, "softmax.py", LOG_SUM_EXP, "dW = X.T.dot(probs)", "dW = -X.T.dot(probs)")
    report = check(path)
    (found,) = errors(report)
    assert found["pattern"] != "loss-sign-flipped" and found["line"] == line_of(path, "dW = -X.T.dot(probs)")


def test_the_log_sum_exp_form_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "softmax.py", LOG_SUM_EXP))) == []
