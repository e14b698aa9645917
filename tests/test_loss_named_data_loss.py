"""`data_loss` is a loss, not a gradient: a name that starts with `d` and a lower-case letter is no
`dL` or `dW`. A script whose only loss is `data_loss` (computed before `dscores = probs` writes into
the probabilities, so no loss can be rebuilt from them afterwards) is replayed with that loss, so
its wrong hidden gradient is named, and weights that start at zero are named as the reason the loss
does not fall.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

np.random.seed(1)
N, K = 80, 3
X = np.zeros((N * K, 2))
y = np.zeros(N * K, dtype="uint8")
for j in range(K):
    ix = range(N * j, N * (j + 1))
    r = np.linspace(0.0, 1, N)
    t = np.linspace(j * 4, (j + 1) * 4, N) + np.random.randn(N) * 0.2
    X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
    y[ix] = j

W = 0.5 * np.random.randn(2, 40)
b = np.zeros((1, 40))
W2 = 0.5 * np.random.randn(40, K)
b2 = np.zeros((1, K))
n = X.shape[0]
for i in range(400):
    hidden = np.tanh(np.dot(X, W) + b)
    scores = np.dot(hidden, W2) + b2
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = np.sum(-np.log(probs[range(n), y])) / n
    if i % 100 == 0:
        print("iteration %d: loss %f" % (i, data_loss))
    dscores = probs
    dscores[range(n), y] -= 1
    dscores /= n
    dW2 = np.dot(hidden.T, dscores)
    db2 = np.sum(dscores, axis=0, keepdims=True)
    dhidden = np.dot(dscores, W2.T) * (1 - hidden ** 2)
    dW = np.dot(X.T, dhidden)
    db = np.sum(dhidden, axis=0, keepdims=True)
    W += -0.5 * dW
    b += -0.5 * db
    W2 += -0.5 * dW2
    b2 += -0.5 * db2
'''

RIGHT = "    dhidden = np.dot(dscores, W2.T) * (1 - hidden ** 2)\n"


def test_the_step_is_replayed_with_data_loss(tmp_path):
    report = check(planted(tmp_path, "spiral.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert replayed(report)["loss"] == "data_loss"


def test_a_missing_tanh_derivative_is_named(tmp_path):
    path = planted(tmp_path, "spiral.py", PROGRAM, RIGHT, "    dhidden = np.dot(dscores, W2.T)\n")
    assert errors(check(path))[0]["line"] == line_of(path, "dhidden = np.dot(dscores, W2.T)")


def test_weights_that_start_at_zero_are_named(tmp_path):
    program = PROGRAM.replace("W = 0.5 * np.random.randn(2, 40)", "W = np.zeros((2, 40))").replace("W2 = 0.5 * np.random.randn(40, K)", "W2 = np.zeros((40, K))")
    (error,) = errors(check(planted(tmp_path, "spiral.py", program, RIGHT, RIGHT)))
    assert error["code"] == "BPD611"
