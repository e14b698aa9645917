"""cs231n function pairs trained by a script: `loss, ds = softmax_loss(s, y)` where `softmax_loss`
forgets to divide dx by the batch. The wrong adjoint `ds` is what the function returns, and the
function's own check names the statement inside it: that is the root, not the call."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    log_probs = shifted - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


if __name__ == "__main__":
    np.random.seed(1)
    N, D, H, C = 64, 10, 16, 4
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    W1 = 0.1 * np.random.randn(D, H); b1 = np.zeros(H)
    W2 = 0.1 * np.random.randn(H, C); b2 = np.zeros(C)
    lr = 0.5
    for it in range(200):
        h, c1 = affine_forward(X, W1, b1)
        a, cr = relu_forward(h)
        s, c2 = affine_forward(a, W2, b2)
        loss, ds = softmax_loss(s, y)
        da, dW2, db2 = affine_backward(ds, c2)
        dh = relu_backward(da, cr)
        dX, dW1, db1 = affine_backward(dh, c1)
        W1 -= lr * dW1; b1 -= lr * db1
        W2 -= lr * dW2; b2 -= lr * db2
        if it % 20 == 0:
            print(it, loss)
'''

DIVIDED = "    dx /= N\n"


def test_the_pairs_get_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "pairs.py", PROGRAM, DIVIDED, DIVIDED))) == []


def test_the_undivided_dx_is_named_inside_the_loss_function(tmp_path):
    path = planted(tmp_path, "pairs.py", PROGRAM, DIVIDED, "")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["layer"], root["param"], root["line"]) == ("softmax_loss", "x", line_of(path, "dx[np.arange(N), y] -= 1"))
    assert all(f["name"] != "step-gradient-mismatch" for f in errors(report))
