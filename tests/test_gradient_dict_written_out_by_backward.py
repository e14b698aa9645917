"""A recurrent model whose backward hands its gradients back in a dict it writes out
(`return {"Wx": dWx, "Wh": dWh, ...}`), and whose training loop walks that dict by the parameters'
keys: a weight's term read at the wrong step inside the loop through time (`dWh += H[t].T @ da`
where the state before the step, `H[t - 1]`, belongs; the states kept in a dict from key -1) is
named at that statement, not at the line that called the backward, also when the sums start at
zeros bound together (`dWx, dWh, db = np.zeros_like(...), ...`). The correct twins are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

CLASS = '''\
import numpy as np


class Recurrent:
    def __init__(self, n_in, n_hidden, seed=0):
        r = np.random.default_rng(seed)
        self.n_hidden = n_hidden
        self.Wx = r.normal(0, 0.5, (n_in, n_hidden))
        self.Wh = r.normal(0, 0.3, (n_hidden, n_hidden))
        self.b = np.zeros(n_hidden)
        self.V = r.normal(0, 0.3, (n_hidden, 1))

    def weights(self):
        return {"Wx": self.Wx, "Wh": self.Wh, "b": self.b, "V": self.V}

    def run(self, seq):
        n, steps, _ = seq.shape
        self.seq = seq
        self.H = {-1: np.zeros((n, self.n_hidden))}
        for t in range(steps):
            self.H[t] = np.tanh(seq[:, t] @ self.Wx + self.H[t - 1] @ self.Wh + self.b)
        return self.H[steps - 1] @ self.V

    def grads(self, dout):
        steps = self.seq.shape[1]
        dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
        dV = self.H[steps - 1].T @ dout
        dnext = dout @ self.V.T
        for t in range(steps - 1, -1, -1):
            da = dnext * (1 - self.H[t] ** 2)
            dWx += self.seq[:, t].T @ da
            dWh += self.H[t - 1].T @ da
            db += da.sum(axis=0)
            dnext = da @ self.Wh.T
        return {"Wx": dWx, "Wh": dWh, "b": db, "V": dV}


rng = np.random.default_rng(7)
model = Recurrent(2, 10)
for it in range(600):
    seq = rng.uniform(-1, 1, size=(24, 5, 2))
    target = seq[:, :, :1].sum(axis=1) - seq[:, :, 1:].mean(axis=1)
    out = model.run(seq)
    loss = 0.5 * np.mean((out - target) ** 2)
    grads = model.grads((out - target) / len(seq))
    for key, w in model.weights().items():
        np.clip(grads[key], -3, 3, out=grads[key])  # against exploding gradients
        w -= 0.1 * grads[key]
    if it % 100 == 0:
        print(it, loss)
'''

FUNCTIONS = '''\
import numpy as np


def init(n_in, n_hidden, rng):
    return {
        "U": rng.normal(0, 0.4, (n_in, n_hidden)),
        "W": rng.normal(0, 0.2, (n_hidden, n_hidden)),
        "c": np.zeros(n_hidden),
        "out": rng.normal(0, 0.3, (n_hidden, 1)),
    }


def forward(P, xs):
    T = xs.shape[1]
    hs = {-1: np.zeros((xs.shape[0], P["W"].shape[0]))}
    for t in range(T):
        hs[t] = np.tanh(xs[:, t] @ P["U"] + hs[t - 1] @ P["W"] + P["c"])
    return hs[T - 1] @ P["out"], hs


def backward(P, xs, hs, dy):
    dU, dW, dc = np.zeros_like(P["U"]), np.zeros_like(P["W"]), np.zeros_like(P["c"])
    dout = hs[xs.shape[1] - 1].T @ dy
    dh = dy @ P["out"].T
    for t in reversed(range(xs.shape[1])):
        dz = dh * (1 - hs[t] ** 2)
        dU += xs[:, t].T @ dz
        dW += hs[t - 1].T @ dz
        dc += dz.sum(axis=0)
        dh = dz @ P["W"].T
    return {"U": dU, "W": dW, "c": dc, "out": dout}


rng = np.random.default_rng(11)
P = init(3, 8, rng)
for epoch in range(400):
    xs = rng.normal(size=(20, 4, 3))
    ys = np.tanh(xs.sum(axis=(1, 2)))[:, None]
    pred, hs = forward(P, xs)
    loss = np.mean((pred - ys) ** 2)
    grads = backward(P, xs, hs, 2 * (pred - ys) / len(xs))
    for k in P:
        P[k] -= 0.05 * grads[k]
    if epoch % 100 == 0:
        print(epoch, loss)
'''

CASES = {
    "class": (CLASS, "dWh += self.H[t - 1].T @ da", "dWh += self.H[t].T @ da"),
    "functions": (FUNCTIONS, "dW += hs[t - 1].T @ dz", "dW += hs[t].T @ dz"),
}


@pytest.mark.parametrize("style", CASES)
def test_a_weight_term_read_one_step_late_is_named_at_its_statement(tmp_path, style):
    text, right, wrong = CASES[style]
    path = planted(tmp_path, "rnn.py", text, right, wrong)
    report = check(path)
    (error,) = errors(report)
    assert error["line"] == line_of(path, wrong), error["message"]


@pytest.mark.parametrize("style", CASES)
def test_the_correct_recurrent_models_are_clean(tmp_path, style):
    report = check(write(tmp_path, "rnn.py", CASES[style][0]))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    assert any(m["layer"] == "training step" for m in report["measurements"])
