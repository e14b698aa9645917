"""One slip planted inside the backward loop over time of an LSTM or a GRU, named at its own statement.

Each program is written correct (its twin must come out with no error and no warning), then one statement
of the loop `for t in reversed(range(T))` is changed, and the root cause must stand at that statement, not
at a line where a parameter's gradient is added up or handed back:

- a gate's pre-activation gradient no name pairs with a stored value (`daz = dz * z * (1 - z)`,
  `dz_pre = ...`): measured through the gate's slope, because it is a product of `dz` and `z`
  (`static.step_functions._through_slope`);
- the gradient the loop carries to the step before, reached through an intermediate (`do = dht * tc` after
  `dht = dh[:, t, :] + dh_next`): the carried statement is blamed (`_read_through`), and a step's own
  gradient under a longer name that leaves the carry out (`dht = dh[:, t, :]`) is `carried_not_added`;
- a GRU's update gate written for its complement (`dh * z` for `dh * (1 - z)`), the gradient sent back
  through a sibling weight (`p["Ur"]` for `p["Uz"]`), a term's gate left out (`drh` for `drh * r`): rewrites the
  layer check and the replay try (`static.alternatives`);
- a model whose backward returns the gradients in a dict made by a comprehension, or keeps it as
  `self.grads = grads`: the wrong entry's line, not a `bad-return` at the last `grads[...] +=`, nor the
  comprehension;
- a step function first called with a state of zeros (`h0`), where a term that multiplies the state vanishes:
  checked at the program's first call whose state has moved;
- values kept in dicts named for them (`self.o[t]`), paired with their adjoints (`do`); a weight's gradient
  started by a comprehension of zeros and added to in the loop, applied over `zip(weights, grads)`, formed where
  it is added to; a dict entry applied clipped (`np.clip(g[name], -5, 5)`), formed where it is written;
- states kept one key ahead of the step (`hs[t + 1]` made at step t, read so in the pass at t): its adjoints are
  gradients of `hs[t + 1]` (`static.step_functions._stored_ahead`), so a weight's term read one step late is named
  at its statement, not as a wrong `dh` at the last step; a weight kept as an attribute and walked by a dict's
  keys (`for key, w in net.weights().items()`, `w -= lr * d[key]`) is formed where its entry `d["R"]` is;
- a term of the carried state's gradient that no measured adjoint holds (`dh_prev = dh * zs[t]`), in a
  program only the replay checks: the replay's own change of the pass's statements that puts the first wrong
  adjoint right (`replay.through_time._carried_rewrite`).
"""

from __future__ import annotations

import pytest

from tests.inprocess import edited
from tests.userfiles import check, line_of, planted, write

GRU_CLASS = """\
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class GRU:
    def __init__(self, input_size, hidden_size, seed=0):
        rng = np.random.default_rng(seed)
        D, H = input_size, hidden_size
        self.params = {
            "Wz": rng.standard_normal((D, H)) * 0.3, "Uz": rng.standard_normal((H, H)) * 0.3, "bz": np.zeros(H),
            "Wr": rng.standard_normal((D, H)) * 0.3, "Ur": rng.standard_normal((H, H)) * 0.3, "br": np.zeros(H),
            "Wh": rng.standard_normal((D, H)) * 0.3, "Uh": rng.standard_normal((H, H)) * 0.3, "bh": np.zeros(H),
        }
        self.hidden_size = H

    def forward(self, xs):
        p = self.params
        N, T, D = xs.shape
        h = np.zeros((N, self.hidden_size))
        self.cache = []
        hs = np.zeros((N, T, self.hidden_size))
        for t in range(T):
            x = xs[:, t, :]
            z = sigmoid(x @ p["Wz"] + h @ p["Uz"] + p["bz"])
            r = sigmoid(x @ p["Wr"] + h @ p["Ur"] + p["br"])
            hc = np.tanh(x @ p["Wh"] + (r * h) @ p["Uh"] + p["bh"])
            h_new = (1 - z) * h + z * hc
            self.cache.append((x, h, z, r, hc))
            h = h_new
            hs[:, t, :] = h
        return hs

    def backward(self, dhs):
        p = self.params
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        N, T, H = dhs.shape
        dxs = np.zeros((N, T, p["Wz"].shape[0]))
        dh_next = np.zeros((N, H))
        for t in reversed(range(T)):
            x, h, z, r, hc = self.cache[t]
            dh = dhs[:, t, :] + dh_next
            dhc = dh * z
            dz = dh * (hc - h)
            dh_prev = dh * (1 - z)
            dah = dhc * (1 - hc ** 2)
            daz = dz * z * (1 - z)
            drh = dah @ p["Uh"].T
            dr = drh * h
            dh_prev += drh * r
            dar = dr * r * (1 - r)
            grads["Wh"] += x.T @ dah
            grads["Uh"] += (r * h).T @ dah
            grads["bh"] += dah.sum(axis=0)
            grads["Wz"] += x.T @ daz
            grads["Uz"] += h.T @ daz
            grads["bz"] += daz.sum(axis=0)
            grads["Wr"] += x.T @ dar
            grads["Ur"] += h.T @ dar
            grads["br"] += dar.sum(axis=0)
            dh_prev += daz @ p["Uz"].T + dar @ p["Ur"].T
            dxs[:, t, :] = dah @ p["Wh"].T + daz @ p["Wz"].T + dar @ p["Wr"].T
            dh_next = dh_prev
        self.grads = grads
        return dxs


def main():
    rng = np.random.default_rng(1)
    N, T, D, H = 6, 4, 3, 5
    xs = rng.standard_normal((N, T, D))
    ys = 0.5 * np.tanh(xs @ rng.standard_normal((D, H)))
    model = GRU(D, H)
    lr = 0.5
    for epoch in range(150):
        hs = model.forward(xs)
        loss = 0.5 * np.sum((hs - ys) ** 2) / N
        dhs = (hs - ys) / N
        model.backward(dhs)
        for k in model.params:
            model.params[k] -= lr * model.grads[k]


if __name__ == "__main__":
    main()
"""

# the same model, its backward returning the gradients it adds up in a dict made by a comprehension
GRU_RETURNING = edited(
    GRU_CLASS,
    ("        self.grads = grads\n        return dxs\n", "        return grads\n"),
    ("        model.backward(dhs)\n        for k in model.params:\n            model.params[k] -= lr * model.grads[k]\n",
     "        grads = model.backward(dhs)\n        for k in model.params:\n            model.params[k] -= lr * grads[k]\n"),
)

GRU_STEPS = """\
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gru_step_forward(x, prev_h, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx[:, :2 * H] + prev_h @ Wh[:, :2 * H] + b[:2 * H]
    z = sigmoid(a[:, :H])
    r = sigmoid(a[:, H:])
    n = np.tanh(x @ Wx[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:] + b[2 * H:])
    next_h = z * prev_h + (1 - z) * n
    cache = (x, prev_h, z, r, n, Wx, Wh)
    return next_h, cache


def gru_step_backward(dnext_h, cache):
    x, prev_h, z, r, n, Wx, Wh = cache
    H = prev_h.shape[1]
    dz = dnext_h * (prev_h - n)
    dn = dnext_h * (1 - z)
    dprev_h = dnext_h * z
    dn_pre = dn * (1 - n ** 2)
    drh = dn_pre @ Wh[:, 2 * H:].T
    dr = drh * prev_h
    dprev_h += drh * r
    dz_pre = dz * z * (1 - z)
    dr_pre = dr * r * (1 - r)
    da = np.concatenate([dz_pre, dr_pre], axis=1)
    dprev_h += da @ Wh[:, :2 * H].T
    dx = da @ Wx[:, :2 * H].T + dn_pre @ Wx[:, 2 * H:].T
    dWx = np.concatenate([x.T @ da, x.T @ dn_pre], axis=1)
    dWh = np.concatenate([prev_h.T @ da, (r * prev_h).T @ dn_pre], axis=1)
    db = np.concatenate([da.sum(axis=0), dn_pre.sum(axis=0)])
    return dx, dprev_h, dWx, dWh, db


def gru_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    caches = []
    prev_h = h0
    for t in range(T):
        prev_h, cache = gru_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches


def gru_backward(dh, caches):
    N, T, H = dh.shape
    x0, _, _, _, _, Wx, Wh = caches[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(3 * H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t, :] + dprev_h, caches[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def main():
    rng = np.random.default_rng(4)
    N, T, D, H = 5, 6, 4, 7
    x = rng.standard_normal((N, T, D))
    target = 0.5 * np.tanh(x @ rng.standard_normal((D, H)))
    Wx = rng.standard_normal((D, 3 * H)) * 0.3
    Wh = rng.standard_normal((H, 3 * H)) * 0.3
    b = np.zeros(3 * H)
    h0 = np.zeros((N, H))
    for it in range(200):
        h, caches = gru_forward(x, h0, Wx, Wh, b)
        loss = 0.5 * np.sum((h - target) ** 2) / N
        dh = (h - target) / N
        _, _, dWx, dWh, db = gru_backward(dh, caches)
        Wx -= 0.5 * dWx
        Wh -= 0.5 * dWh
        b -= 0.5 * db


main()
"""

LSTM_CLASS = """\
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class LSTM:
    def __init__(self, n_in, n_hidden, n_out, seed=0):
        rng = np.random.default_rng(seed)
        k = n_in + n_hidden
        self.H = n_hidden
        self.params = {
            "Wf": rng.standard_normal((k, n_hidden)) * 0.2, "bf": np.zeros(n_hidden),
            "Wi": rng.standard_normal((k, n_hidden)) * 0.2, "bi": np.zeros(n_hidden),
            "Wg": rng.standard_normal((k, n_hidden)) * 0.2, "bg": np.zeros(n_hidden),
            "Wo": rng.standard_normal((k, n_hidden)) * 0.2, "bo": np.zeros(n_hidden),
            "Wy": rng.standard_normal((n_hidden, n_out)) * 0.2, "by": np.zeros(n_out),
        }

    def forward(self, X):
        p = self.params
        B, T, _ = X.shape
        h = np.zeros((B, self.H))
        c = np.zeros((B, self.H))
        self.steps = []
        outputs = []
        for t in range(T):
            z = np.concatenate([h, X[:, t]], axis=1)
            f = sigmoid(z @ p["Wf"] + p["bf"])
            i = sigmoid(z @ p["Wi"] + p["bi"])
            g = np.tanh(z @ p["Wg"] + p["bg"])
            o = sigmoid(z @ p["Wo"] + p["bo"])
            c_prev = c
            c = f * c_prev + i * g
            h = o * np.tanh(c)
            y = h @ p["Wy"] + p["by"]
            self.steps.append((z, f, i, g, o, c_prev, c, h))
            outputs.append(y)
        return np.stack(outputs, axis=1)

    def backward(self, dY):
        p = self.params
        grads = {name: np.zeros_like(value) for name, value in p.items()}
        B, T, _ = dY.shape
        dh_next = np.zeros((B, self.H))
        dc_next = np.zeros((B, self.H))
        for t in reversed(range(T)):
            z, f, i, g, o, c_prev, c, h = self.steps[t]
            dy = dY[:, t]
            grads["Wy"] += h.T @ dy
            grads["by"] += dy.sum(axis=0)
            dht = dy @ p["Wy"].T + dh_next
            tc = np.tanh(c)
            do = dht * tc * o * (1 - o)
            dc = dht * o * (1 - tc ** 2) + dc_next
            df = dc * c_prev * f * (1 - f)
            di = dc * g * i * (1 - i)
            dg = dc * i * (1 - g ** 2)
            grads["Wf"] += z.T @ df
            grads["bf"] += df.sum(axis=0)
            grads["Wi"] += z.T @ di
            grads["bi"] += di.sum(axis=0)
            grads["Wg"] += z.T @ dg
            grads["bg"] += dg.sum(axis=0)
            grads["Wo"] += z.T @ do
            grads["bo"] += do.sum(axis=0)
            dz = df @ p["Wf"].T + di @ p["Wi"].T + dg @ p["Wg"].T + do @ p["Wo"].T
            dh_next = dz[:, :self.H]
            dc_next = dc * f
        return grads


def train():
    rng = np.random.default_rng(2)
    B, T, D, O = 8, 6, 3, 2
    X = rng.standard_normal((B, T, D))
    Y = np.cumsum(X[:, :, :O], axis=1) * 0.3
    net = LSTM(D, 8, O)
    lr = 0.05
    for epoch in range(300):
        out = net.forward(X)
        loss = np.mean((out - Y) ** 2)
        dY = 2 * (out - Y) / out.size
        grads = net.backward(dY)
        for name in net.params:
            net.params[name] -= lr * grads[name]


if __name__ == "__main__":
    train()
"""

# the same model keeping its gradients as `self.grads`, read by the training loop from there
LSTM_KEEPING = edited(
    LSTM_CLASS,
    ("            dc_next = dc * f\n        return grads\n", "            dc_next = dc * f\n        self.grads = grads\n"),
    ("        grads = net.backward(dY)\n        for name in net.params:\n            net.params[name] -= lr * grads[name]\n",
     "        net.backward(dY)\n        for name in net.params:\n            net.params[name] -= lr * net.grads[name]\n"),
)

LSTM_FUNCTIONS = """\
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h = h0
    prev_c = np.zeros_like(h0)
    caches = []
    for t in range(T):
        a = x[:, t, :] @ Wx + prev_h @ Wh + b
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        tc = np.tanh(next_c)
        next_h = o * tc
        caches.append((x[:, t, :], prev_h, prev_c, i, f, o, g, tc))
        h[:, t, :] = next_h
        prev_h, prev_c = next_h, next_c
    return h, caches


def lstm_backward(dh, caches, Wx, Wh):
    N, T, H = dh.shape
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(4 * H)
    dx = np.zeros((N, T, Wx.shape[0]))
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        xt, prev_h, prev_c, i, f, o, g, tc = caches[t]
        dht = dh[:, t, :] + dh_next
        do = dht * tc
        dc = dht * o * (1 - tc ** 2) + dc_next
        df = dc * prev_c
        di = dc * g
        dg = dc * i
        dc_next = dc * f
        da = np.hstack((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)))
        dWx += xt.T @ da
        dWh += prev_h.T @ da
        db += da.sum(axis=0)
        dx[:, t, :] = da @ Wx.T
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db


def loss_fn(h, y, Wy):
    scores = h @ Wy
    diff = scores - y
    loss = 0.5 * np.sum(diff ** 2) / h.shape[0]
    dscores = diff / h.shape[0]
    dh = dscores @ Wy.T
    dWy = np.einsum('nth,nto->ho', h, dscores)
    return loss, dh, dWy


def train():
    rng = np.random.default_rng(0)
    N, T, D, H, O = 8, 5, 6, 6, 2
    x = rng.standard_normal((N, T, D))
    y = rng.standard_normal((N, T, O))
    Wx = rng.standard_normal((D, 4 * H)) * 0.3
    Wh = rng.standard_normal((H, 4 * H)) * 0.3
    b = np.zeros(4 * H)
    Wy = rng.standard_normal((H, O)) * 0.3
    h0 = np.zeros((N, H))
    lr = 0.1
    for step in range(200):
        h, caches = lstm_forward(x, h0, Wx, Wh, b)
        loss, dh, dWy = loss_fn(h, y, Wy)
        dx, dh0, dWx, dWh, db = lstm_backward(dh, caches, Wx, Wh)
        Wx -= lr * dWx
        Wh -= lr * dWh
        b -= lr * db
        Wy -= lr * dWy


if __name__ == "__main__":
    train()
"""

# an LSTM whose forward keeps each value in a dict named for it (`self.o[t]`), its backward's gradients started by
# one comprehension of zeros and handed back as a tuple the training loop zips with the weights
LSTM_ATTRIBUTES = """\
import numpy as np


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class LSTMCellNet:
    def __init__(self, n_x, n_h, seed=3):
        rng = np.random.RandomState(seed)
        n = n_x + n_h
        self.n_h = n_h
        self.Wf = rng.randn(n_h, n) * 0.2
        self.Wi = rng.randn(n_h, n) * 0.2
        self.Wc = rng.randn(n_h, n) * 0.2
        self.Wo = rng.randn(n_h, n) * 0.2
        self.bf = np.zeros((n_h, 1))
        self.bi = np.zeros((n_h, 1))
        self.bc = np.zeros((n_h, 1))
        self.bo = np.zeros((n_h, 1))

    def forward(self, xs):
        self.x, self.f, self.i, self.cc, self.o, self.c, self.h = {}, {}, {}, {}, {}, {}, {}
        self.h[-1] = np.zeros((self.n_h, 1))
        self.c[-1] = np.zeros((self.n_h, 1))
        for t in range(len(xs)):
            self.x[t] = np.vstack((self.h[t - 1], xs[t]))
            self.f[t] = sigmoid(self.Wf @ self.x[t] + self.bf)
            self.i[t] = sigmoid(self.Wi @ self.x[t] + self.bi)
            self.cc[t] = np.tanh(self.Wc @ self.x[t] + self.bc)
            self.o[t] = sigmoid(self.Wo @ self.x[t] + self.bo)
            self.c[t] = self.f[t] * self.c[t - 1] + self.i[t] * self.cc[t]
            self.h[t] = self.o[t] * np.tanh(self.c[t])
        return self.h

    def backward(self, dhs):
        dWf, dWi, dWc, dWo = [np.zeros_like(w) for w in (self.Wf, self.Wi, self.Wc, self.Wo)]
        dbf, dbi, dbc, dbo = [np.zeros_like(b) for b in (self.bf, self.bi, self.bc, self.bo)]
        dh_next = np.zeros((self.n_h, 1))
        dc_next = np.zeros((self.n_h, 1))
        for t in reversed(range(len(dhs))):
            dh = dhs[t] + dh_next
            tanh_c = np.tanh(self.c[t])
            do = dh * tanh_c * self.o[t] * (1 - self.o[t])
            dc = dh * self.o[t] * (1 - tanh_c ** 2) + dc_next
            dcc = dc * self.i[t] * (1 - self.cc[t] ** 2)
            di = dc * self.cc[t] * self.i[t] * (1 - self.i[t])
            df = dc * self.c[t - 1] * self.f[t] * (1 - self.f[t])
            dWf += df @ self.x[t].T
            dWi += di @ self.x[t].T
            dWc += dcc @ self.x[t].T
            dWo += do @ self.x[t].T
            dbf += df
            dbi += di
            dbc += dcc
            dbo += do
            dx = self.Wf.T @ df + self.Wi.T @ di + self.Wc.T @ dcc + self.Wo.T @ do
            dh_next = dx[:self.n_h]
            dc_next = dc * self.f[t]
        return dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo


def run():
    rng = np.random.RandomState(0)
    T, n_x, n_h = 7, 2, 6
    xs = [rng.randn(n_x, 1) for _ in range(T)]
    targets = [0.5 * np.tanh(x.sum()) * np.ones((n_h, 1)) for x in xs]
    net = LSTMCellNet(n_x, n_h)
    lr = 0.2
    for epoch in range(200):
        hs = net.forward(xs)
        loss = sum(0.5 * float(np.sum((hs[t] - targets[t]) ** 2)) for t in range(T))
        dhs = [hs[t] - targets[t] for t in range(T)]
        grads = net.backward(dhs)
        for w, g in zip((net.Wf, net.Wi, net.Wc, net.Wo, net.bf, net.bi, net.bc, net.bo), grads):
            w -= lr * g


run()
"""

# the same way of writing an Elman network
ELMAN_ATTRIBUTES = """\
import numpy as np


class ElmanNet:
    def __init__(self, n_in, n_hid, n_out, seed=7):
        rng = np.random.RandomState(seed)
        self.Wxh = rng.randn(n_hid, n_in) * 0.3
        self.Whh = rng.randn(n_hid, n_hid) * 0.3
        self.Why = rng.randn(n_out, n_hid) * 0.3
        self.bh = np.zeros((n_hid, 1))
        self.by = np.zeros((n_out, 1))

    def forward(self, inputs):
        self.x, self.a, self.h, self.y = {}, {}, {}, {}
        self.h[-1] = np.zeros_like(self.bh)
        for t in range(len(inputs)):
            self.x[t] = inputs[t]
            self.a[t] = self.Wxh @ self.x[t] + self.Whh @ self.h[t - 1] + self.bh
            self.h[t] = np.tanh(self.a[t])
            self.y[t] = self.Why @ self.h[t] + self.by
        return self.y

    def backward(self, targets):
        dWxh, dWhh, dWhy, dbh, dby = [np.zeros_like(w) for w in (self.Wxh, self.Whh, self.Why, self.bh, self.by)]
        dh_next = np.zeros_like(self.bh)
        for t in reversed(range(len(targets))):
            dy = self.y[t] - targets[t]
            dWhy += dy @ self.h[t].T
            dby += dy
            dh = self.Why.T @ dy + dh_next
            da = dh * (1 - self.h[t] ** 2)
            dbh += da
            dWxh += da @ self.x[t].T
            dWhh += da @ self.h[t - 1].T
            dh_next = self.Whh.T @ da
        return dWxh, dWhh, dWhy, dbh, dby


def main():
    rng = np.random.RandomState(1)
    T = 8
    inputs = [rng.randn(3, 1) for _ in range(T)]
    targets = [0.5 * np.tanh(x[:2] - x[1:]) for x in inputs]
    net = ElmanNet(3, 10, 2)
    lr = 0.05
    for epoch in range(200):
        ys = net.forward(inputs)
        loss = sum(0.5 * float(np.sum((ys[t] - targets[t]) ** 2)) for t in range(T))
        grads = net.backward(targets)
        for w, g in zip((net.Wxh, net.Whh, net.Why, net.bh, net.by), grads):
            w -= lr * g


main()
"""

# a GRU over characters in one function returning the loss and a dict of gradients, clipped where they are applied
GRU_SCRIPT = """\
import numpy as np

text = "hello world, hello gradients. " * 30
symbols = sorted(set(text))
V = len(symbols)
index = {s: k for k, s in enumerate(symbols)}
H = 12
rng = np.random.RandomState(5)
Wz, Uz, bz = rng.randn(H, V) * 0.1, rng.randn(H, H) * 0.1, np.zeros((H, 1))
Wr, Ur, br = rng.randn(H, V) * 0.1, rng.randn(H, H) * 0.1, np.zeros((H, 1))
Wh, Uh, bh = rng.randn(H, V) * 0.1, rng.randn(H, H) * 0.1, np.zeros((H, 1))
Wy, by = rng.randn(V, H) * 0.1, np.zeros((V, 1))


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def loss_and_grads(inputs, targets, h_start):
    xs, zs, rs, hcs, hs, ps = {}, {}, {}, {}, {}, {}
    hs[-1] = h_start.copy()
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1.0
        zs[t] = sigmoid(Wz @ xs[t] + Uz @ hs[t - 1] + bz)
        rs[t] = sigmoid(Wr @ xs[t] + Ur @ hs[t - 1] + br)
        hcs[t] = np.tanh(Wh @ xs[t] + Uh @ (rs[t] * hs[t - 1]) + bh)
        hs[t] = zs[t] * hs[t - 1] + (1 - zs[t]) * hcs[t]
        y = Wy @ hs[t] + by
        e = np.exp(y - y.max())
        ps[t] = e / e.sum()
        loss -= np.log(ps[t][targets[t], 0])
    g = {name: np.zeros_like(w) for name, w in (("Wz", Wz), ("Uz", Uz), ("bz", bz), ("Wr", Wr), ("Ur", Ur), ("br", br),
                                                ("Wh", Wh), ("Uh", Uh), ("bh", bh), ("Wy", Wy), ("by", by))}
    dh_next = np.zeros((H, 1))
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        g["Wy"] += dy @ hs[t].T
        g["by"] += dy
        dh = Wy.T @ dy + dh_next
        dz = dh * (hs[t - 1] - hcs[t])
        dhc = dh * (1 - zs[t])
        dh_prev = dh * zs[t]
        dhc_raw = dhc * (1 - hcs[t] ** 2)
        g["Wh"] += dhc_raw @ xs[t].T
        g["Uh"] += dhc_raw @ (rs[t] * hs[t - 1]).T
        g["bh"] += dhc_raw
        drh = Uh.T @ dhc_raw
        dr = drh * hs[t - 1]
        dh_prev += drh * rs[t]
        dz_raw = dz * zs[t] * (1 - zs[t])
        dr_raw = dr * rs[t] * (1 - rs[t])
        g["Wz"] += dz_raw @ xs[t].T
        g["Uz"] += dz_raw @ hs[t - 1].T
        g["bz"] += dz_raw
        g["Wr"] += dr_raw @ xs[t].T
        g["Ur"] += dr_raw @ hs[t - 1].T
        g["br"] += dr_raw
        dh_prev += Uz.T @ dz_raw + Ur.T @ dr_raw
        dh_next = dh_prev
    return loss, g, hs[len(inputs) - 1]


params = {"Wz": Wz, "Uz": Uz, "bz": bz, "Wr": Wr, "Ur": Ur, "br": br, "Wh": Wh, "Uh": Uh, "bh": bh, "Wy": Wy, "by": by}
seq, lr, pos = 10, 0.1, 0
h = np.zeros((H, 1))
for step in range(300):
    if pos + seq + 1 >= len(text):
        pos, h = 0, np.zeros((H, 1))
    inputs = [index[c] for c in text[pos:pos + seq]]
    targets = [index[c] for c in text[pos + 1:pos + seq + 1]]
    loss, g, h = loss_and_grads(inputs, targets, h)
    for name, w in params.items():
        w -= lr * np.clip(g[name], -5, 5)
    pos += seq
"""

GRU_SCRIPT_ENTRIES = edited(
    GRU_SCRIPT,
    ("    for name, w in params.items():\n        w -= lr * np.clip(g[name], -5, 5)\n",
     "    for name in params:\n        params[name] -= lr * np.clip(g[name], -5, 5)\n"),
)

# a char-RNN whose states are kept one key ahead of the step (`hs[0]` the state handed in, `hs[t + 1]` made at
# step t), truncated BPTT in a function returning a dict of gradients, applied clipped
CHAR_RNN_AHEAD = """\
import numpy as np

corpus = "the quick brown fox jumps over the lazy dog. " * 20
chars = sorted(set(corpus))
V, H = len(chars), 16
stoi = {c: i for i, c in enumerate(chars)}
data = np.array([stoi[c] for c in corpus])

rng = np.random.default_rng(1)
params = {
    "Wx": rng.normal(0, 0.1, (V, H)),
    "Wh": rng.normal(0, 0.1, (H, H)),
    "bh": np.zeros(H),
    "Wy": rng.normal(0, 0.1, (H, V)),
    "by": np.zeros(V),
}


def step_loss(ids, nxt, h0):
    T = len(ids)
    hs = np.zeros((T + 1, H))
    hs[0] = h0
    probs = np.zeros((T, V))
    loss = 0.0
    for t in range(T):
        x = np.zeros(V)
        x[ids[t]] = 1.0
        hs[t + 1] = np.tanh(x @ params["Wx"] + hs[t] @ params["Wh"] + params["bh"])
        logits = hs[t + 1] @ params["Wy"] + params["by"]
        e = np.exp(logits - logits.max())
        probs[t] = e / e.sum()
        loss -= np.log(probs[t, nxt[t]])
    g = {k: np.zeros_like(v) for k, v in params.items()}
    dnext = np.zeros(H)
    for t in reversed(range(T)):
        x = np.zeros(V)
        x[ids[t]] = 1.0
        dy = probs[t].copy()
        dy[nxt[t]] -= 1.0
        g["Wy"] += np.outer(hs[t + 1], dy)
        g["by"] += dy
        dh = params["Wy"] @ dy + dnext
        draw = (1.0 - hs[t + 1] ** 2) * dh
        g["Wx"] += np.outer(x, draw)
        g["Wh"] += np.outer(hs[t], draw)
        g["bh"] += draw
        dnext = params["Wh"] @ draw
    return loss, g, hs[T]


seq_len, lr = 12, 0.05
h = np.zeros(H)
p = 0
for it in range(400):
    if p + seq_len + 1 > len(data):
        p, h = 0, np.zeros(H)
    ids, nxt = data[p:p + seq_len], data[p + 1:p + seq_len + 1]
    loss, g, h = step_loss(ids, nxt, h)
    for k in params:
        params[k] -= lr * np.clip(g[k], -5, 5)
    p += seq_len
"""

# the same layout written in the training loop itself, gradients under names of their own, applied clipped over a tuple
CHAR_RNN_AHEAD_INLINE = """\
import numpy as np

words = "to be or not to be that is the question whether tis nobler in the mind " * 12
vocab = sorted(set(words))
K, H = len(vocab), 14
pos_of = {ch: k for k, ch in enumerate(vocab)}
seq = np.array([pos_of[ch] for ch in words])

gen = np.random.RandomState(4)
U = gen.randn(K, H) * 0.1
W = gen.randn(H, H) * 0.1
b = np.zeros(H)
V = gen.randn(H, K) * 0.1
c = np.zeros(K)

span, eta = 10, 0.05
state = np.zeros(H)
start = 0
for epoch in range(300):
    if start + span + 1 > len(seq):
        start, state = 0, np.zeros(H)
    xs, ys = seq[start:start + span], seq[start + 1:start + span + 1]
    hs = np.zeros((span + 1, H))
    hs[0] = state
    ps = np.zeros((span, K))
    loss = 0.0
    for t in range(span):
        hs[t + 1] = np.tanh(U[xs[t]] + hs[t] @ W + b)
        o = hs[t + 1] @ V + c
        o = np.exp(o - o.max())
        ps[t] = o / o.sum()
        loss += -np.log(ps[t, ys[t]])
    dU, dW, db, dV, dc = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b), np.zeros_like(V), np.zeros_like(c)
    dh_carry = np.zeros(H)
    for t in reversed(range(span)):
        do = ps[t].copy()
        do[ys[t]] -= 1
        dV += np.outer(hs[t + 1], do)
        dc += do
        dh = V @ do + dh_carry
        dpre = dh * (1 - hs[t + 1] ** 2)
        dU[xs[t]] += dpre
        dW += np.outer(hs[t], dpre)
        db += dpre
        dh_carry = W @ dpre
    for param, grad in ((U, dU), (W, dW), (b, db), (V, dV), (c, dc)):
        param -= eta * np.clip(grad, -5, 5)
    state = hs[span]
    start += span
"""

# the same, the carried gradient computed in one statement from `dh` and the slope at `hs[t + 1]`: it is the gradient of
# `hs[t]`, carried to the pass before
CHAR_RNN_AHEAD_CARRIED = edited(
    CHAR_RNN_AHEAD_INLINE,
    ("    dh_carry = np.zeros(H)\n", "    dh_prev = np.zeros(H)\n"),
    ("        dh = V @ do + dh_carry\n", "        dh = V @ do + dh_prev\n"),
    ("        dh_carry = W @ dpre\n", "        dh_prev = W @ (dh * (1 - hs[t + 1] ** 2))\n"),
)

# a model class whose method returns a dict of gradients made by a comprehension over `self.weights()`, the states kept
# one key ahead, applied over `net.weights().items()` after an in-place clip: `net.R` is moved by `d[key]`
CHAR_RNN_AHEAD_MODEL = """\
import numpy as np

song = "row row row your boat gently down the stream merrily merrily life is but a dream " * 10
letters = sorted(set(song))
ix = {ch: i for i, ch in enumerate(letters)}
ids = np.array([ix[ch] for ch in song])


class SmallRNN:
    def __init__(self, n_sym, n_hid, seed=3):
        gen = np.random.default_rng(seed)
        self.n_hid = n_hid
        self.E = gen.normal(0, 0.1, (n_sym, n_hid))
        self.R = gen.normal(0, 0.1, (n_hid, n_hid))
        self.bias = np.zeros(n_hid)
        self.O = gen.normal(0, 0.1, (n_hid, n_sym))
        self.bout = np.zeros(n_sym)

    def weights(self):
        return {"E": self.E, "R": self.R, "bias": self.bias, "O": self.O, "bout": self.bout}

    def run(self, xs, ys, start):
        n = len(xs)
        states = np.zeros((n + 1, self.n_hid))
        states[0] = start
        out = np.zeros((n, self.O.shape[1]))
        cost = 0.0
        for t in range(n):
            states[t + 1] = np.tanh(self.E[xs[t]] + states[t] @ self.R + self.bias)
            z = states[t + 1] @ self.O + self.bout
            z = np.exp(z - z.max())
            out[t] = z / z.sum()
            cost -= np.log(out[t, ys[t]]) / n
        d = {k: np.zeros_like(v) for k, v in self.weights().items()}
        dstate_next = np.zeros(self.n_hid)
        for t in reversed(range(n)):
            dz = out[t].copy()
            dz[ys[t]] -= 1.0
            dz /= n
            d["O"] += np.outer(states[t + 1], dz)
            d["bout"] += dz
            dstate = dz @ self.O.T + dstate_next
            da = dstate * (1.0 - states[t + 1] ** 2)
            d["bias"] += da
            d["E"][xs[t]] += da
            d["R"] += np.outer(states[t], da)
            dstate_next = da @ self.R.T
        return cost, d, states[n]


net = SmallRNN(len(letters), 24)
step_size = 0.3
for sweep in range(4):
    carry = np.zeros(24)
    seen = []
    for s in range(0, len(ids) - 13, 12):
        inp = ids[s:s + 12]
        tgt = ids[s + 1:s + 13]
        cost, d, carry = net.run(inp, tgt, carry)
        for key, w in net.weights().items():
            np.clip(d[key], -5, 5, out=d[key])
            w -= step_size * d[key]
        seen.append(cost)
    print(sweep, np.mean(seen))
"""

PROGRAMS = {
    "gru_class": GRU_CLASS, "gru_returning": GRU_RETURNING, "gru_steps": GRU_STEPS, "gru_script": GRU_SCRIPT,
    "gru_script_entries": GRU_SCRIPT_ENTRIES, "lstm_class": LSTM_CLASS, "lstm_keeping": LSTM_KEEPING,
    "lstm_functions": LSTM_FUNCTIONS, "lstm_attributes": LSTM_ATTRIBUTES, "elman_attributes": ELMAN_ATTRIBUTES,
    "char_rnn_ahead": CHAR_RNN_AHEAD, "char_rnn_ahead_inline": CHAR_RNN_AHEAD_INLINE, "char_rnn_ahead_carried": CHAR_RNN_AHEAD_CARRIED,
    "char_rnn_ahead_model": CHAR_RNN_AHEAD_MODEL,
}  # fmt: skip


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_correct_recurrent_program_is_clean(tmp_path, name):
    report = check(write(tmp_path, f"{name}.py", PROGRAMS[name]))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []


# (program, the statement as written right, the slip planted there, the rule the root is found by)
SLIPS = {
    # a gate's pre-activation gradient named after no stored value, measured through the gate's slope
    "gru-class-update-gate-slope": ("gru_class", "daz = dz * z * (1 - z)", "daz = dz * (1 - z)", "BPD108"),
    "gru-steps-update-gate-slope": ("gru_steps", "dz_pre = dz * z * (1 - z)", "dz_pre = dz * (1 - z)", "BPD108"),
    "gru-class-candidate-slope": ("gru_class", "dah = dhc * (1 - hc ** 2)", "dah = dhc * (1 - hc)", "BPD108"),
    # the update gate's share of the old state written for its complement
    "gru-class-update-gate-complement": ("gru_class", "dh_prev = dh * (1 - z)", "dh_prev = dh * z", "BPD108"),
    "gru-steps-update-gate-complement": ("gru_steps", "dprev_h = dnext_h * z", "dprev_h = dnext_h * (1 - z)", "BPD101"),
    # the state's gradient sent back through the reset gate's weights where the update gate's belong
    "gru-class-carried-through-the-wrong-weight": (
        "gru_class", 'dh_prev += daz @ p["Uz"].T + dar @ p["Ur"].T', 'dh_prev += daz @ p["Ur"].T + dar @ p["Ur"].T', "BPD108",
    ),
    # a wrong entry of the gradients kept as `self.grads = grads`, and of the dict a backward returns
    "gru-class-kept-entry": ("gru_class", 'grads["Uh"] += (r * h).T @ dah', 'grads["Uh"] += h.T @ dah', "BPD108"),
    "gru-returning-entry": ("gru_returning", 'grads["Uh"] += (r * h).T @ dah', 'grads["Uh"] += h.T @ dah', "BPD108"),
    "lstm-class-returned-entry": ("lstm_class", 'grads["Wg"] += z.T @ dg', 'grads["Wg"] += z.T @ di', "BPD108"),
    "lstm-keeping-entry": ("lstm_keeping", 'grads["bf"] += df.sum(axis=0)', 'grads["bf"] += 2 * df.sum(axis=0)', "BPD108"),
    # a term that multiplies the state, which the first call's state of zeros hides
    "gru-steps-reset-state-term": ("gru_steps", "(r * prev_h).T @ dn_pre", "prev_h.T @ dn_pre", "BPD101"),
    # the carry reached through the step's own gradient of the state
    "lstm-functions-carry-scaled": ("lstm_functions", "dh_next = da @ Wh.T", "dh_next = 2 * da @ Wh.T", "BPD108"),
    "lstm-functions-carry-through-wx": ("lstm_functions", "dh_next = da @ Wh.T", "dh_next = da @ Wx.T", "BPD108"),
    "lstm-class-carry-sliced": ("lstm_class", "dh_next = dz[:, :self.H]", "dh_next = dz[:, -self.H:]", "BPD108"),
    # the step's own gradient of the state, under a longer name, leaving the carry out
    "lstm-functions-carry-left-out": ("lstm_functions", "dht = dh[:, t, :] + dh_next", "dht = dh[:, t, :]", "BPD108"),
    "lstm-class-carry-left-out": ("lstm_class", 'dht = dy @ p["Wy"].T + dh_next', 'dht = dy @ p["Wy"].T', "BPD108"),
    # adjoints of values kept in dicts named for them (`do` of `self.o[t]`)
    "lstm-attributes-output-gate": ("lstm_attributes", "do = dh * tanh_c * self.o[t] * (1 - self.o[t])", "do = dh * self.o[t] * (1 - self.o[t])", "BPD108"),
    "lstm-attributes-cell-carry": ("lstm_attributes", "dc_next = dc * self.f[t]", "dc_next = dc", "BPD108"),
    "elman-attributes-slope": ("elman_attributes", "da = dh * (1 - self.h[t] ** 2)", "da = dh * (1 - self.h[t])", "BPD108"),
    # a weight's gradient started by a comprehension of zeros, then added up in the loop: formed where it is added to
    "lstm-attributes-weight-entry": ("lstm_attributes", "dWc += dcc @ self.x[t].T", "dWc += dc @ self.x[t].T", "BPD108"),
    "elman-attributes-weight-entry": ("elman_attributes", "dWhh += da @ self.h[t - 1].T", "dWhh += da @ self.h[t].T", "BPD108"),
    # a term of the carried state's gradient, found by the replay's own change of the pass's statements
    "gru-script-update-gate-complement": ("gru_script", "dh_prev = dh * zs[t]", "dh_prev = dh * (1 - zs[t])", "BPD108"),
    "gru-script-carried-through-the-wrong-weight": ("gru_script", "dh_prev += Uz.T @ dz_raw + Ur.T @ dr_raw", "dh_prev += Ur.T @ dz_raw + Ur.T @ dr_raw", "BPD108"),
    # a term of the carried state's gradient whose gate is left out (`drh` for `drh * r`)
    "gru-script-reset-gate-left-out": ("gru_script", "dh_prev += drh * rs[t]", "dh_prev += drh", "BPD108"),
    "gru-class-reset-gate-left-out": ("gru_class", "dh_prev += drh * r", "dh_prev += drh", "BPD108"),
    "gru-steps-reset-gate-left-out": ("gru_steps", "dprev_h += drh * r", "dprev_h += drh", "BPD101"),
    # a dict entry applied through `np.clip(g[name], ...)`
    "gru-script-clipped-entry": ("gru_script", 'g["Uh"] += dhc_raw @ (rs[t] * hs[t - 1]).T', 'g["Uh"] += dhc_raw @ hs[t - 1].T', "BPD108"),
    "gru-script-entries-clipped-entry": ("gru_script_entries", 'g["Wz"] += dz_raw @ xs[t].T', 'g["Wz"] += dz @ xs[t].T', "BPD108"),
    # states kept one key ahead (`hs[t + 1]` made at step t): `dh`, `draw` are gradients of `hs[t + 1]`, not of `hs[t]`
    "char-rnn-ahead-state-read-one-step-late": ("char_rnn_ahead", 'g["Wh"] += np.outer(hs[t], draw)', 'g["Wh"] += np.outer(hs[t + 1], draw)', "BPD108"),
    "char-rnn-ahead-inline-state-read-one-step-late": ("char_rnn_ahead_inline", "dW += np.outer(hs[t], dpre)", "dW += np.outer(hs[t + 1], dpre)", "BPD108"),
    "char-rnn-ahead-inline-output-weight": ("char_rnn_ahead_inline", "dV += np.outer(hs[t + 1], do)", "dV += np.outer(hs[t], do)", "BPD108"),
    "char-rnn-ahead-inline-slope": ("char_rnn_ahead_inline", "dpre = dh * (1 - hs[t + 1] ** 2)", "dpre = dh * (1 - hs[t + 1])", "BPD108"),
    "char-rnn-ahead-inline-carry-transposed": ("char_rnn_ahead_inline", "dh_carry = W @ dpre", "dh_carry = W.T @ dpre", "BPD108"),
    "char-rnn-ahead-carried-transposed": (
        "char_rnn_ahead_carried", "dh_prev = W @ (dh * (1 - hs[t + 1] ** 2))", "dh_prev = W.T @ (dh * (1 - hs[t + 1] ** 2))", "BPD108",
    ),
    "char-rnn-ahead-model-state-read-one-step-late": ("char_rnn_ahead_model", 'd["R"] += np.outer(states[t], da)', 'd["R"] += np.outer(states[t + 1], da)', "BPD108"),
    "char-rnn-ahead-model-output-bias": ("char_rnn_ahead_model", 'd["bout"] += dz', 'd["bout"] += dz * n', "BPD108"),
    "char-rnn-ahead-carried-output-weight": ("char_rnn_ahead_carried", "dV += np.outer(hs[t + 1], do)", "dV += np.outer(hs[t], do)", "BPD108"),
}


@pytest.mark.parametrize("slip", sorted(SLIPS))
def test_the_root_cause_is_the_planted_statement(tmp_path, slip):
    name, right, wrong, code = SLIPS[slip]
    path = planted(tmp_path, f"{name}.py", PROGRAMS[name], right, wrong)
    root = _root(check(path))
    assert (root["code"], root["line"]) == (code, line_of(path, wrong)), root["message"]


def test_the_replays_change_of_a_carried_term_is_its_advice(tmp_path):
    """The replay names the statement of the pass that makes the carried value wrong, and the change that puts the
    first wrong adjoint right: `dh_prev = dh * zs[t]` for the planted `dh_prev = dh * (1 - zs[t])`."""
    name, right, wrong, _ = SLIPS["gru-script-update-gate-complement"]
    path = planted(tmp_path, f"{name}.py", PROGRAMS[name], right, wrong)
    root = _root(check(path))
    assert root["fix"] == right
    assert f"from `{wrong}` (line {line_of(path, wrong)}) at step 9" in root["message"]
    assert root["message"].endswith(f"write `{right}`, with which `dh` at step 8 is right")


def test_an_entry_computed_from_right_adjoints_names_each_adjoint_once(tmp_path):
    """`grads["Wg"] += z.T @ di` adds up a wrong term at every time step from `di`, right at each: `di` is named
    once, with its one line, not once per time step."""
    name, right, wrong, _ = SLIPS["lstm-class-returned-entry"]
    path = planted(tmp_path, f"{name}.py", PROGRAMS[name], right, wrong)
    message = _root(check(path))["message"]
    assert f"although `di` (line {line_of(path, 'di = dc * g')}), which line {line_of(path, wrong)} computes it from, is right at every time step" in message


@pytest.mark.parametrize(
    "slip", ["char-rnn-ahead-state-read-one-step-late", "char-rnn-ahead-inline-state-read-one-step-late", "char-rnn-ahead-model-state-read-one-step-late"]
)
def test_a_state_kept_one_key_ahead_is_the_gradients_key(tmp_path, slip):
    """`hs[t + 1] = np.tanh(...)` at step t, and `draw = (1 - hs[t + 1] ** 2) * dh` in the pass at t: `dh` is measured
    against `hs[t + 1]` and found right at every step, so no adjoint is blamed for the weight's wrong term."""
    name, right, wrong, _ = SLIPS[slip]
    path = planted(tmp_path, f"{name}.py", PROGRAMS[name], right, wrong)
    report = check(path)
    assert [f["line"] for f in report["findings"] if f["severity"] in ("error", "warning")] == [line_of(path, wrong)]
    assert "is not the gradient of" not in _root(report)["message"].split("formed at")[0]
