"""A gradient far too large (the batch's sum where the loss is its mean) saturates the softmax in
one update: at the second pass, where the replay takes the program's state, probabilities are exactly
0 and 1, and the loss's guard (`np.log(probs + 1e-12)`) sets its slope. The step is then judged from
the state before that first update, where the program's own gradient is what moves the loss, so the
missing division is named at the line that computes the gradient.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np
np.random.seed(7)

centres = np.array([[0.0, 2.5], [2.5, -1.0], [-2.5, -1.0]])
X = np.vstack([c + 0.7 * np.random.randn(120, 2) for c in centres])
Y = np.eye(3)[np.repeat(np.arange(3), 120)]


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def cross_entropy(probs, Y):
    return -np.mean(np.sum(Y * np.log(probs + 1e-12), axis=1))


W = 0.01 * np.random.randn(2, 3)
b = np.zeros((1, 3))
m = X.shape[0]
for it in range(200):
    probs = softmax(X.dot(W) + b)
    loss = cross_entropy(probs, Y)
    dscores = probs - Y
    dW = X.T.dot(dscores) / m
    db = np.sum(dscores, axis=0, keepdims=True) / m
    W -= 0.5 * dW
    b -= 0.5 * db
'''

RIGHT = "    dW = X.T.dot(dscores) / m\n"


def test_the_missing_division_is_named(tmp_path):
    path = planted(tmp_path, "softmax.py", PROGRAM, RIGHT, "    dW = X.T.dot(dscores)\n")
    report = check(path)
    (error,) = errors(report)
    assert error["code"] == "BPD108"
    assert error["line"] == line_of(path, "dW = X.T.dot(dscores)")
    assert "batch size" in error["message"]
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"W": True, "b": False}


def test_the_correct_program_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "softmax.py", PROGRAM, RIGHT, RIGHT))) == []
