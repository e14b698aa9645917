"""A recurrent cell whose `back(dh, saved)` returns the gradients of one time step, which the caller
unpacks and adds up over the sequence (`_, dWx_t, dWh_t, db_t = cell.back(dh, saved[t])`, then
`gWx += dWx_t` ...): when the three sums are wrong because the adjoint they are all made from inside
`back` is wrong, the finding is at that adjoint's line inside `back`, not at the three sums.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Cell:
    def __init__(self, n_in, n_hid, rng):
        self.Wx = rng.normal(0, 0.4, (n_in, n_hid))
        self.Wh = rng.normal(0, 0.4, (n_hid, n_hid))
        self.b = np.zeros(n_hid)

    def step(self, x, h_prev):
        h = np.tanh(x @ self.Wx + h_prev @ self.Wh + self.b)
        return h, (x, h_prev, h)

    def back(self, dh, saved):
        x, h_prev, h = saved
        dz = dh * (1 - h ** 2)
        dWx = x.T @ dz
        dWh = h_prev.T @ dz
        db = dz.sum(axis=0)
        return dz @ self.Wh.T, dWx, dWh, db


def run_sequence(cell, V, X, Y):
    n, T, _ = X.shape
    h = np.zeros((n, cell.Wh.shape[0]))
    saved = []
    for t in range(T):
        h, s = cell.step(X[:, t, :], h)
        saved.append(s)
    pred = h @ V
    loss = 0.5 * np.mean(np.sum((pred - Y) ** 2, axis=1))
    dpred = (pred - Y) / n
    gV = h.T @ dpred
    dh = dpred @ V.T
    gWx, gWh, gb = np.zeros_like(cell.Wx), np.zeros_like(cell.Wh), np.zeros_like(cell.b)
    for t in reversed(range(T)):
        dh, dWx_t, dWh_t, db_t = cell.back(dh, saved[t])
        gWx += dWx_t
        gWh += dWh_t
        gb += db_t
    return loss, gV, gWx, gWh, gb


rng = np.random.default_rng(8)
X = rng.normal(0, 0.5, (48, 5, 3))
Y = X.sum(axis=1)[:, :2]
cell = Cell(3, 10, rng)
V = rng.normal(0, 0.3, (10, 2))
for it in range(200):
    loss, gV, gWx, gWh, gb = run_sequence(cell, V, X, Y)
    V -= 0.1 * gV
    cell.Wx -= 0.1 * gWx
    cell.Wh -= 0.1 * gWh
    cell.b -= 0.1 * gb
'''

SLOPE = "dz = dh * (1 - h ** 2)"


def test_the_correct_cell_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "cell.py", PROGRAM, SLOPE, SLOPE))) == []


def test_a_wrong_adjoint_inside_the_step_function_is_named_there(tmp_path):
    path = planted(tmp_path, "cell.py", PROGRAM, SLOPE, "dz = dh * (1 - h)")
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, "dz = dh * (1 - h)")
    assert "computed from `dz`" in finding["message"]
