"""cs231n's `softmax_loss_vectorized(W, X, y, reg)` whose loss adds `0.5 * reg * np.sum(W * W)` and
whose `dW` never gets the penalty's term: named, with the term to add, instead of "re-derive it"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train
    loss += 0.5 * reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1
    dscores /= num_train
    dW = X.T.dot(dscores)
    dW += reg * W
    return loss, dW


class LinearClassifier:
    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-1, reg=0.5, num_iters=200, batch_size=50):
        num_train, dim = X.shape
        num_classes = np.max(y) + 1
        if self.W is None:
            self.W = 0.001 * np.random.randn(dim, num_classes)
        loss_history = []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)
            loss, grad = softmax_loss_vectorized(self.W, X[idx], y[idx], reg)
            loss_history.append(loss)
            self.W -= learning_rate * grad
        return loss_history


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(500, 10)
    y = np.argmax(X[:, :3], axis=1)
    hist = LinearClassifier().train(X, y)
    print(hist[0], hist[-1])
'''

TERM = "    dW += reg * W\n"


def test_the_penalised_gradient_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "softmax.py", PROGRAM, TERM, TERM))) == []


def test_the_penalty_term_left_out_of_dw_is_named(tmp_path):
    path = planted(tmp_path, "softmax.py", PROGRAM, TERM, "")
    (found,) = errors(check(path))
    assert (found["param"], found["pattern"]) == ("W", "penalty-left-out")
    assert f"`loss += 0.5 * reg * np.sum(W * W)` (line {line_of(path, 'loss += 0.5 * reg')}) adds a penalty to the loss" in found["message"]
    assert found["message"].endswith("add the penalty's gradient (`reg * W` for `0.5 * reg * ΣW²`, `2 * reg * W` without the half)")
