"""A max pooling written with a loop, inside a loss function that returns its gradients, whose backward
hands each window's gradient to both positions (`dr[:, 2*j:2*j+2] += dout[:, j:j+1]`, the argmax mask
left out). Its adjoint `dr` sits on the ReLU's exact zeros and the pooling's ties, where the replay's
two step sizes disagree and it is not judged; the next adjoint, `dc = dr * (c > 0)`, only masks it. The
statement of `pool_backward` that writes the gradient is named, not `dc`, and `dr` is not called right.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(9)


def pool_forward(r):
    n, h = r.shape
    out = np.zeros((n, h // 2))
    for j in range(h // 2):
        out[:, j] = r[:, 2 * j:2 * j + 2].max(axis=1)
    return out


def pool_backward(dout, r):
    dr = np.zeros_like(r)
    for j in range(dout.shape[1]):
        win = r[:, 2 * j:2 * j + 2]
        mask = win == win.max(axis=1, keepdims=True)
        dr[:, 2 * j:2 * j + 2] += mask * dout[:, j:j + 1]
    return dr


def model_loss(params, X, y):
    W1, b1, W2, b2 = params
    c = X @ W1 + b1
    r = np.maximum(c, 0)
    p = pool_forward(r)
    scores = p @ W2 + b2
    s = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(s)
    probs = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(probs[np.arange(n), y]))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dW2 = p.T @ dscores
    db2 = dscores.sum(axis=0)
    dp = dscores @ W2.T
    dr = pool_backward(dp, r)
    dc = dr * (c > 0)
    dW1 = X.T @ dc
    db1 = dc.sum(axis=0)
    return loss, [dW1, db1, dW2, db2]


X = rng.normal(size=(120, 6))
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
params = [0.5 * rng.normal(size=(6, 16)), np.zeros(16), 0.5 * rng.normal(size=(8, 3)), np.zeros(3)]
for step in range(200):
    loss, grads = model_loss(params, X, y)
    for p_, g in zip(params, grads):
        p_ -= 0.5 * g
'''

RIGHT = "        dr[:, 2 * j:2 * j + 2] += mask * dout[:, j:j + 1]\n"


def test_the_pooling_backward_is_named(tmp_path):
    path = planted(tmp_path, "pool.py", PROGRAM, RIGHT, "        dr[:, 2 * j:2 * j + 2] += dout[:, j:j + 1]\n")
    (error,) = errors(check(path))
    assert error["line"] == line_of(path, "dr[:, 2 * j:2 * j + 2] += dout")
    right = error["message"].split(" are right")[0]
    assert "`pool_backward`" in error["message"] and "`dp` are right" in error["message"] and "`dr`" not in right


def test_the_masked_pooling_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "pool.py", PROGRAM, RIGHT, RIGHT))) == []
