"""A function pair whose forward takes the whole dictionary of parameters first (`rnn_step(P, x, h)`,
its backward adding into a dictionary of gradients, `rnn_step_back(P, dh, cache, G)`), which the
program calls from inside a function or a class it checks on the program's own call (a `(loss, grads)`
function, a model's `loss` method): the pair is checked through that caller, and named so, instead of
being built from guessed arguments, which cannot guess the dictionary (a false `build-failed` warning
on correct code before). A wrong backward is still found.

Two styles: a vanilla RNN written as functions run by a function `forward_backward(P, X, Y)`, and a
gated cell (`cell_fwd`/`cell_bwd`) run by a class's `loss` method.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted

RNN = '''\
import numpy as np

rng = np.random.default_rng(3)


def rnn_step(P, x, h):
    a = x @ P["Wx"] + h @ P["Wh"] + P["b"]
    h_next = np.tanh(a)
    return h_next, (x, h, h_next)


def rnn_step_back(P, dh_next, cache, G):
    x, h, h_next = cache
    da = dh_next * (1 - h_next ** 2)
    G["Wx"] += x.T @ da
    G["Wh"] += h.T @ da
    G["b"] += da.sum(axis=0)
    return da @ P["Wh"].T


def forward_backward(P, X, Y):
    n, steps, _ = X.shape
    h = np.zeros((n, P["Wh"].shape[0]))
    caches = []
    for t in range(steps):
        h, cache = rnn_step(P, X[:, t, :], h)
        caches.append(cache)
    pred = h @ P["V"]
    err = pred - Y
    loss = 0.5 * np.mean(np.sum(err ** 2, axis=1))
    G = {k: np.zeros_like(v) for k, v in P.items()}
    dpred = err / n
    G["V"] = h.T @ dpred
    dh = dpred @ P["V"].T
    for t in reversed(range(steps)):
        dh = rnn_step_back(P, dh, caches[t], G)
    return loss, G


n, steps, d, hidden = 40, 4, 2, 6
X = rng.normal(size=(n, steps, d))
Y = X.sum(axis=1)
P = {
    "Wx": 0.5 * rng.normal(size=(d, hidden)),
    "Wh": 0.3 * rng.normal(size=(hidden, hidden)),
    "b": np.zeros(hidden),
    "V": 0.5 * rng.normal(size=(hidden, d)),
}
for it in range(100):
    loss, G = forward_backward(P, X, Y)
    for k in P:
        P[k] -= 0.1 * G[k]
print(loss)
'''

RNN_RIGHT = 'G["Wh"] += h.T @ da'
RNN_WRONG = 'G["Wh"] += h_next.T @ da'

CELL = '''\
import numpy as np


def cell_fwd(w, x, h):
    g = 1.0 / (1.0 + np.exp(-(x @ w["A"] + h @ w["B"] + w["c"])))
    h_new = g * h + (1.0 - g) * np.tanh(x @ w["A"])
    return h_new, (x, h, g, h_new)


def cell_bwd(w, dh_new, cache, grads):
    x, h, g, h_new = cache
    u = np.tanh(x @ w["A"])
    dg = dh_new * (h - u)
    du = dh_new * (1.0 - g)
    dz = dg * g * (1.0 - g)
    dpre_u = du * (1.0 - u ** 2)
    grads["A"] += x.T @ (dz + dpre_u)
    grads["B"] += h.T @ dz
    grads["c"] += dz.sum(axis=0)
    return dh_new * g + dz @ w["B"].T


class SequenceRegressor:
    def __init__(self, d, hidden, seed=0):
        r = np.random.default_rng(seed)
        self.w = {"A": 0.4 * r.standard_normal((d, hidden)), "B": 0.4 * r.standard_normal((hidden, hidden)), "c": np.zeros(hidden)}
        self.out = 0.4 * r.standard_normal(hidden)

    def loss(self, X, y):
        h = np.zeros((X.shape[0], self.out.shape[0]))
        saved = []
        for t in range(X.shape[1]):
            h, cache = cell_fwd(self.w, X[:, t], h)
            saved.append(cache)
        pred = h @ self.out
        diff = pred - y
        loss = np.mean(diff ** 2)
        dpred = 2 * diff / X.shape[0]
        grads = {k: np.zeros_like(v) for k, v in self.w.items()}
        grads["out"] = h.T @ dpred
        dh = np.outer(dpred, self.out)
        for cache in reversed(saved):
            dh = cell_bwd(self.w, dh, cache, grads)
        return loss, grads


rng = np.random.default_rng(8)
X = rng.standard_normal((50, 5, 3))
y = np.tanh(X[:, :, 0].sum(axis=1))
model = SequenceRegressor(3, 5)
for epoch in range(80):
    loss, grads = model.loss(X, y)
    for k in model.w:
        model.w[k] -= 0.2 * grads[k]
    model.out -= 0.2 * grads["out"]
print(loss)
'''

CELL_RIGHT = "dg = dh_new * (h - u)"
CELL_WRONG = "dg = dh_new * (u - h)"


def _pair_entry(report: dict, name: str) -> dict:
    (entry,) = [b for b in report["built"] if b["what"] == name]
    return entry


def test_the_correct_rnn_functions_are_clean_and_checked_through_their_caller(tmp_path):
    report = check(planted(tmp_path, "rnn.py", RNN, RNN_RIGHT, RNN_RIGHT))
    assert report["findings"] == []
    entry = _pair_entry(report, "rnn_step/rnn_step_back")
    assert entry["origin"] == "observed" and "checked through `forward_backward`" in entry["skipped"]


def test_a_wrong_rnn_backward_is_found_without_a_build_warning(tmp_path):
    report = check(planted(tmp_path, "rnn.py", RNN, RNN_RIGHT, RNN_WRONG))
    assert errors(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD008"]


def test_the_correct_cell_run_by_a_class_is_clean_and_checked_through_it(tmp_path):
    report = check(planted(tmp_path, "cell.py", CELL, CELL_RIGHT, CELL_RIGHT))
    assert report["findings"] == []
    entry = _pair_entry(report, "cell_fwd/cell_bwd")
    assert "checked through `SequenceRegressor`" in entry["skipped"]


def test_a_wrong_cell_backward_is_found_without_a_build_warning(tmp_path):
    report = check(planted(tmp_path, "cell.py", CELL, CELL_RIGHT, CELL_WRONG))
    assert errors(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD008"]
