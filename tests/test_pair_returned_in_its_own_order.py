"""A function pair whose backward returns its gradients in an order of its own and no input gradient
(`return dW, dU, db, dh0` for `rnn_forward(xs, h0, W, U, b)`): each array is matched to the input or
parameter of its shape when that match is unique, so a correct pair gets no false shape mismatch
and a wrong gradient is still found."""

from __future__ import annotations

from tests.userfiles import check, errors, write, planted

PAIR = '''\
import numpy as np


def rnn_forward(xs, h0, W, U, b):
    h, hs, cache = h0, [], []
    for t in range(xs.shape[1]):
        h_prev = h
        h = np.tanh(xs[:, t] @ W + h_prev @ U + b)
        hs.append(h)
        cache.append((xs[:, t], h_prev, h))
    return np.stack(hs, axis=1), (cache, W, U)


def rnn_backward(dhs, cache):
    steps, W, U = cache
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1])
    dh = np.zeros_like(dhs[:, 0])
    for t in reversed(range(len(steps))):
        x, h_prev, h = steps[t]
        da = (dhs[:, t] + dh) * (1 - h ** 2)
        dW += x.T @ da
        dU += h_prev.T @ da
        db += da.sum(axis=0)
        dh = da @ U.T
    return dW, dU, db, dh


rng = np.random.RandomState(0)
xs = rng.randn(8, 5, 3)
ys = np.cumsum(xs[:, :, :1], axis=1)
W, U, b = rng.randn(3, 6) * 0.4, rng.randn(6, 6) * 0.3, np.zeros(6)
V = rng.randn(6, 1) * 0.3
h0 = np.zeros((8, 6))
for step in range(100):
    hs, cache = rnn_forward(xs, h0, W, U, b)
    out = hs @ V
    loss = 0.5 * np.mean((out - ys) ** 2)
    dout = (out - ys) / out.size
    dV = np.einsum("nth,nto->ho", hs, dout)
    dW, dU, db, _ = rnn_backward(dout @ V.T, cache)
    W -= 0.5 * dW
    U -= 0.5 * dU
    b -= 0.5 * db
    V -= 0.5 * dV
'''


def test_a_pair_in_its_own_order_is_clean(tmp_path):
    report = check(write(tmp_path, "rnn_pair.py", PAIR))
    assert errors(report) == []
    checked = {m["param"] for m in report["measurements"] if m["layer"] == "rnn"}
    assert {"W", "U", "b", "h0"} <= checked


def test_a_wrong_gradient_of_such_a_pair_is_found(tmp_path):
    path = planted(tmp_path, "rnn_pair.py", PAIR, "dU += h_prev.T @ da", "dU += h.T @ da")
    wrong = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert [f["param"] for f in wrong] == ["U"]
