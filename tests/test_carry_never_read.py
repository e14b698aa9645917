"""A loop over time that carries the gradient of the hidden state back in a name (`dh_next =
dh_prev` at each step's end) which the next step never reads: every weight's gradient then lacks
the paths through time, and the fix is in the statement that forms the step's own gradient of the
state (`dh = dy @ Wy.T`, where `+ dh_next` belongs). The programs here are written for these tests.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.unused import carried_not_added
from tests.userfiles import check, errors, line_of, planted, write

SEQUENCE = '''\
import numpy as np

rng = np.random.default_rng(4)
T, B, D, H = 5, 8, 2, 6


def init():
    return {
        "Wx": rng.normal(0, 0.4, (D, H)),
        "Wh": rng.normal(0, 0.4, (H, H)),
        "bh": np.zeros(H),
        "Wy": rng.normal(0, 0.4, (H, 1)),
        "by": np.zeros(1),
    }


def loss_and_grads(p, x, y):
    h = np.zeros((B, H))
    hs, outs = [], []
    for t in range(T):
        h_prev = h
        h = np.tanh(x[t] @ p["Wx"] + h_prev @ p["Wh"] + p["bh"])
        hs.append((h_prev, h))
        outs.append(h @ p["Wy"] + p["by"])
    out = np.stack(outs)
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / out.size
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dh_next = np.zeros((B, H))
    for t in reversed(range(T)):
        h_prev, h = hs[t]
        g["Wy"] += h.T @ dout[t]
        g["by"] += dout[t].sum(axis=0)
        dh = dout[t] @ p["Wy"].T + dh_next
        da = dh * (1 - h ** 2)
        g["Wx"] += x[t].T @ da
        g["Wh"] += h_prev.T @ da
        g["bh"] += da.sum(axis=0)
        dh_prev = da @ p["Wh"].T
        dh_next = dh_prev
    return loss, g


if __name__ == "__main__":
    p = init()
    x = rng.uniform(-1, 1, (T, B, D))
    y = np.cumsum(x[:, :, :1], axis=0) * 0.5
    for step in range(200):
        loss, g = loss_and_grads(p, x, y)
        for k in p:
            p[k] -= 0.1 * g[k]
        if step % 50 == 0:
            print(step, loss)
'''


def test_a_carry_set_at_each_steps_end_and_never_read_is_named_where_it_belongs(tmp_path):
    bug = planted(tmp_path, "rnn.py", SEQUENCE, 'dh = dout[t] @ p["Wy"].T + dh_next', 'dh = dout[t] @ p["Wy"].T')
    first = errors(check(bug))[0]
    assert first["line"] == line_of(bug, 'dh = dout[t] @ p["Wy"].T')
    assert f"`dh_next` (line {line_of(bug, 'dh_next = dh_prev')})" in first["message"]
    assert "write `dh = dout[t] @ p['Wy'].T + dh_next`" in first["message"]


def test_the_same_loop_adding_its_carry_is_clean(tmp_path):
    assert not errors(check(write(tmp_path, "rnn.py", SEQUENCE)))


def _carried(source: str) -> tuple | None:
    return carried_not_added(ast.parse(source), len(source.splitlines()) - 1)


def test_a_carry_the_loop_reads_is_carried():
    source = "def f(T, g):\n    dh_next = 0\n    for t in reversed(range(T)):\n        dh = g[t] + dh_next\n        dh_next = dh * 2\n    return dh\n"
    assert _carried(source) is None
    assert _carried(source.replace(" + dh_next", ""))[:3] == ("dh_next", 5, 4)


def test_a_name_never_set_before_the_loop_is_no_carry():
    source = "def f(T, g):\n    for t in reversed(range(T)):\n        dh = g[t]\n        dh_next = dh * 2\n    return dh\n"
    assert _carried(source) is None
