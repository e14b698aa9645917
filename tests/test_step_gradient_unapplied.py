"""A pass that computes a weight's gradient and never applies it (`zip([b1, b2], [db1, db2])` leaves the
weights out; an update line forgotten): the weights keep their random start. An error naming the
gradients and their arrays, at the update; the complete update is clean.

Two styles: cs231n's spiral-data script with an update loop over a zip, and a function-style network
with one update statement per parameter.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SPIRAL = '''\
import numpy as np

np.random.seed(0)
N, D, K = 60, 2, 3
X = np.zeros((N * K, D))
y = np.zeros(N * K, dtype=int)
for j in range(K):
    r = np.linspace(0.0, 1, N)
    t = np.linspace(j * 4, (j + 1) * 4, N) + np.random.randn(N) * 0.2
    X[j * N:(j + 1) * N] = np.c_[r * np.sin(t), r * np.cos(t)]
    y[j * N:(j + 1) * N] = j
W1, b1 = 0.01 * np.random.randn(D, 40), np.zeros((1, 40))
W2, b2 = 0.01 * np.random.randn(40, K), np.zeros((1, K))
for i in range(500):
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[range(N * K), y]).mean()
    dscores = probs
    dscores[range(N * K), y] -= 1
    dscores /= N * K
    dW2 = hidden.T @ dscores
    db2 = dscores.sum(axis=0, keepdims=True)
    dhidden = dscores @ W2.T
    dhidden[hidden <= 0] = 0
    dW1 = X.T @ dhidden
    db1 = dhidden.sum(axis=0, keepdims=True)
    for param, dparam in zip([W1, b1, W2, b2], [dW1, db1, dW2, db2]):
        param += -1.0 * dparam
    if i % 100 == 0:
        print(i, loss)
'''

FUNCTIONS = '''\
import numpy as np


def forward(X, W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    return h, h @ W2 + b2


rng = np.random.default_rng(3)
X = rng.normal(size=(150, 3))
y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:]
W1, b1 = rng.normal(size=(3, 12)) * 0.5, np.zeros(12)
W2, b2 = rng.normal(size=(12, 1)) * 0.5, np.zeros(1)
for epoch in range(300):
    h, out = forward(X, W1, b1, W2, b2)
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / len(X)
    dW2 = h.T @ dout
    db2 = dout.sum(axis=0)
    dh = (dout @ W2.T) * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    W1 -= 0.2 * dW1
    b1 -= 0.2 * db1
    W2 -= 0.2 * dW2
    b2 -= 0.2 * db2
    if epoch % 60 == 0:
        print(epoch, loss)
'''


@pytest.mark.parametrize(
    "text, correct, wrong, frozen, at",
    [
        (SPIRAL, "zip([W1, b1, W2, b2], [dW1, db1, dW2, db2])", "zip([b1, b2], [db1, db2])", {"W1", "W2"}, "param += -1.0 * dparam"),
        (FUNCTIONS, "    W2 -= 0.2 * dW2\n", "", {"W2"}, "W1 -= 0.2 * dW1"),
    ],
    ids=["zip-loop", "statements"],
)
def test_a_gradient_never_applied_is_an_error(tmp_path, text, correct, wrong, frozen, at):
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-unapplied"]
    assert finding["code"] == "BPD634" and finding["line"] == line_of(path, at)
    assert all(f"`{p}`" in finding["message"] for p in frozen)


@pytest.mark.parametrize("text", [SPIRAL, FUNCTIONS], ids=["zip-loop", "statements"])
def test_every_gradient_applied_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path, training=True)) == []
