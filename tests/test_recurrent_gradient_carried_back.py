"""A recurrent backward over a whole sequence whose loop never adds the gradient each step sends back
to the step before (`rnn_step_backward(dh[:, t, :], cache[t])` where `dh[:, t, :] + dprev_h` belongs;
the second book's `layer.backward(dhs[:, t, :])` where `dhs[:, t, :] + dh` belongs)."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

CS231N = '''\
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h ** 2)
    dx = dtanh.dot(Wx.T)
    dprev_h = dtanh.dot(Wh.T)
    dWx = x.T.dot(dtanh)
    dWh = prev_h.T.dot(dtanh)
    db = dtanh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(c)
    return h, cache


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]
    return loss, dx_flat.reshape(N, T, V)


if __name__ == "__main__":
    np.random.seed(0)
    N, T, D, H, V = 4, 6, 3, 8, 5
    x = np.random.randn(N, T, D)
    y = np.random.randint(V, size=(N, T))
    mask = np.random.rand(N, T) > 0.2
    Wx, Wh, b = np.random.randn(D, H) * 0.3, np.random.randn(H, H) * 0.3, np.zeros(H)
    Wy, by = np.random.randn(H, V) * 0.3, np.zeros(V)
    h0 = np.zeros((N, H))
    for it in range(150):
        h, cache = rnn_forward(x, h0, Wx, Wh, b)
        scores = h.dot(Wy) + by
        loss, dscores = temporal_softmax_loss(scores, y, mask)
        dWy = h.reshape(N * T, H).T.dot(dscores.reshape(N * T, V))
        dby = dscores.sum(axis=(0, 1))
        dh = dscores.dot(Wy.T)
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        for p, g in ((Wx, dWx), (Wh, dWh), (b, db), (Wy, dWy), (by, dby)):
            p -= 0.1 * g
        if it % 30 == 0:
            print(it, loss)
'''

BOOK = '''\
# coding: utf-8
# ゼロから作る Deep Learning 2 の TimeRNN（簡略版）
import numpy as np


class RNN:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        t = np.dot(h_prev, Wh) + np.dot(x, Wx) + b
        h_next = np.tanh(t)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        db = np.sum(dt, axis=0)
        dWh = np.dot(h_prev.T, dt)
        dh_prev = np.dot(dt, Wh.T)
        dWx = np.dot(x.T, dt)
        dx = np.dot(dt, Wx.T)
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        return dx, dh_prev


class TimeRNN:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H))
        h = np.zeros((N, H))
        for t in range(T):
            layer = RNN(*self.params)
            h = layer.forward(xs[:, t, :], h)
            hs[:, t, :] = h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
        dxs = np.empty((N, T, D))
        dh = 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        return dxs


np.random.seed(0)
N, T, D, H = 8, 5, 3, 6
xs = np.random.randn(N, T, D)
target = np.cumsum(xs[:, :, :1], axis=1) * 0.3
rnn = TimeRNN(np.random.randn(D, H) * 0.3, np.random.randn(H, H) * 0.3, np.zeros(H))
Wo = np.random.randn(H, 1) * 0.3
for it in range(200):
    hs = rnn.forward(xs)
    out = hs @ Wo
    loss = 0.5 * np.mean((out - target) ** 2)
    dout = (out - target) / out.size
    dWo = np.einsum('nth,nto->ho', hs, dout)
    rnn.backward(dout @ Wo.T)
    Wo -= 0.5 * dWo
    for p, g in zip(rnn.params, rnn.grads):
        p -= 0.5 * g
    if it % 40 == 0:
        print(it, loss)
'''

CASES = {
    "cs231n": (CS231N, "rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])", "rnn_step_backward(dh[:, t, :], cache[t])", "dprev_h", "dh[:, t, :] + dprev_h"),
    "book": (BOOK, "layer.backward(dhs[:, t, :] + dh)", "layer.backward(dhs[:, t, :])", "dh", "dhs[:, t, :] + dh"),
}


@pytest.mark.parametrize("style", CASES)
def test_the_carried_gradient_added_gets_no_error(tmp_path, style):
    program, right, _, _, _ = CASES[style]
    assert errors(check(planted(tmp_path, "rnn.py", program, right, right))) == []


@pytest.mark.parametrize("style", CASES)
def test_the_carried_gradient_left_out_is_named_at_the_loop(tmp_path, style):
    program, right, wrong, name, fix = CASES[style]
    path = planted(tmp_path, "rnn.py", program, right, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["line"], root["pattern"]) == (line_of(path, wrong), "through-time")
    assert root["message"].endswith(f"`{name}` (line {root['line']}) is the gradient each time step sends back to the one before it, but the loop never adds it to that step's upstream gradient: pass `{fix}`")
