"""A gradient made as a buffer of zeros and filled one slice per pass of a loop (`dW[k] = ...` for each
filter tap or each class) and stored in the gradient dict, by a tuple of entries (`grads["W"],
grads["b"] = dW, db`) or in the returned dict literal: a wrong statement in that loop is named where it
fills the buffer, not where the dict is first made nor where the buffer is zeroed.

Two styles: a 1-D convolution over time whose taps are filled in a loop, and a softmax regression whose
weight columns are filled class by class.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

CONV = '''\
import numpy as np

rng = np.random.default_rng(2)
n, T, D, F, K = 24, 9, 3, 4, 3
L = T - K + 1
X = rng.normal(size=(n, T, D))
y = (X[:, :, 0].sum(axis=1) > 0).astype(float)
W, b, v = 0.3 * rng.normal(size=(K, D, F)), np.zeros(F), 0.3 * rng.normal(size=F)


def loss_and_grads(X, y):
    Z = np.zeros((len(X), L, F)) + b
    for k in range(K):
        Z += X[:, k:k + L] @ W[k]
    H = np.tanh(Z)
    m = H.mean(axis=1)
    s = m @ v
    p = 1 / (1 + np.exp(-s))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    ds = (p - y) / len(X)
    grads = {"v": m.T @ ds}
    dm = np.outer(ds, v)
    dZ = (dm[:, None, :] / L) * (1 - H ** 2)
    dW = np.zeros_like(W)
    for k in range(K):
        dW[k] = np.einsum("ntd,ntf->df", X[:, k:k + L], dZ)
    db = dZ.sum(axis=(0, 1))
    grads["W"], grads["b"] = dW, db
    return loss, grads


for epoch in range(120):
    loss, grads = loss_and_grads(X, y)
    W -= 0.5 * grads["W"]
    b -= 0.5 * grads["b"]
    v -= 0.5 * grads["v"]
    if epoch % 40 == 0:
        print(epoch, loss)
'''

COLUMNS = '''\
import numpy as np

rng = np.random.default_rng(5)
n, D, C = 90, 4, 3
X = rng.normal(size=(n, D))
labels = np.argmax(X[:, :C] + 0.3 * rng.normal(size=(n, C)), axis=1)
Y = np.eye(C)[labels]
W = 0.1 * rng.normal(size=(D, C))
b = np.zeros(C)


def step(W, b):
    S = X @ W + b
    S = S - S.max(axis=1, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(P[np.arange(n), labels]))
    dW = np.zeros_like(W)
    for c in range(C):
        dW[:, c] = X.T @ (P[:, c] - Y[:, c]) / n
    db = (P - Y).mean(axis=0)
    return loss, {"W": dW, "b": db}


for it in range(200):
    loss, g = step(W, b)
    W -= 0.5 * g["W"]
    b -= 0.5 * g["b"]
    if it % 50 == 0:
        print(it, loss)
'''

CASES = [
    (CONV, 'dW[k] = np.einsum("ntd,ntf->df", X[:, k:k + L], dZ)', 'dW[k] = np.einsum("ntd,ntf->df", X[:, :L], dZ)'),
    (COLUMNS, "dW[:, c] = X.T @ (P[:, c] - Y[:, c]) / n", "dW[:, c] = X.T @ (P[:, c] - Y[:, 0]) / n"),
]


@pytest.mark.parametrize("text, correct, wrong", CASES, ids=["conv-taps", "class-columns"])
def test_a_wrong_slice_is_named_in_the_loop_that_fills_it(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "train.py", text, correct, wrong)
    found = [f for f in errors(check(path, training=True)) if f["name"] == "step-gradient-mismatch"]
    assert found and {f["line"] for f in found} == {line_of(path, wrong)}


@pytest.mark.parametrize("text", [CONV, COLUMNS], ids=["conv-taps", "class-columns"])
def test_the_correct_loop_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path, training=True)) == []
