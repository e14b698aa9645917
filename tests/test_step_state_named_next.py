"""A recurrent cell written as step functions (`*_step_forward` / `*_step_backward`, the assignments'
shape) whose backward calls the gradient of the new cell state `dc` while the forward step names that
state `next_c` (and takes `prev_c`).

The replay pairs each adjoint of the backward step with the forward step's local of the same stem
(`dgate` with `gate`) and measures it at every time step by moving that local. `dc` had no local `c`
to pair with, so a mistake in its own line was reported at the first adjoint computed from it, with
"the mistake may be there". A state the step makes, named for the step it goes to (`next_c`,
`c_next`, `new_c`, `c_new`), is what `dc` differentiates when it is the only one. The program is
written for this test: a gated cell that blends its state with a candidate, read out at the last step.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def blend_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    gate = sigmoid(a[:, :H])
    cand = np.tanh(a[:, H:])
    next_c = gate * prev_c + (1 - gate) * cand
    next_h = np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, gate, cand, next_c, next_h)
    return next_h, next_c, cache


def blend_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, gate, cand, next_c, next_h = cache
    dc = dnext_c + dnext_h * (1 - next_h ** 2)
    dgate = dc * (prev_c - cand)
    dcand = dc * (1 - gate)
    dprev_c = dc * gate
    da = np.hstack([dgate * gate * (1 - gate), dcand * (1 - cand ** 2)])
    dx = da.dot(Wx.T)
    dprev_h = da.dot(Wh.T)
    dWx = x.T.dot(da)
    dWh = prev_h.T.dot(da)
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def blend_forward(x, Wx, Wh, b):
    N, T, D = x.shape
    H = Wh.shape[0]
    prev_h, prev_c = np.zeros((N, H)), np.zeros((N, H))
    hs = np.zeros((N, T, H))
    caches = []
    for t in range(T):
        prev_h, prev_c, cache = blend_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        hs[:, t, :] = prev_h
        caches.append(cache)
    return hs, caches


def blend_backward(dhs, caches):
    N, T, H = dhs.shape
    D = caches[0][0].shape[1]
    dWx = np.zeros((D, 2 * H))
    dWh = np.zeros((H, 2 * H))
    db = np.zeros(2 * H)
    dprev_h = np.zeros((N, H))
    dprev_c = np.zeros((N, H))
    for t in reversed(range(T)):
        _, dprev_h, dprev_c, dWx_t, dWh_t, db_t = blend_step_backward(dhs[:, t, :] + dprev_h, dprev_c, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dWx, dWh, db


def loss_and_grads(p, x, y):
    N = x.shape[0]
    hs, caches = blend_forward(x, p["Wx"], p["Wh"], p["b"])
    last = hs[:, -1, :]
    out = last.dot(p["Wo"]) + p["bo"]
    loss = 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))
    dout = (out - y) / N
    grads = {"Wo": last.T.dot(dout), "bo": dout.sum(axis=0)}
    dhs = np.zeros_like(hs)
    dhs[:, -1, :] = dout.dot(p["Wo"].T)
    grads["Wx"], grads["Wh"], grads["b"] = blend_backward(dhs, caches)
    return loss, grads


if __name__ == "__main__":
    rng = np.random.default_rng(11)
    D, H, T = 2, 8, 6
    params = {
        "Wx": rng.standard_normal((D, 2 * H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, 2 * H)) / np.sqrt(H),
        "b": np.zeros(2 * H),
        "Wo": rng.standard_normal((H, 1)) / np.sqrt(H),
        "bo": np.zeros(1),
    }
    for step in range(400):
        x = rng.standard_normal((32, T, D))
        y = x[:, :, :1].sum(axis=1) / T
        loss, grads = loss_and_grads(params, x, y)
        for k in params:
            params[k] -= 0.3 * grads[k]
        if step % 50 == 0:
            print(step, loss)
'''

RIGHT = "dc = dnext_c + dnext_h * (1 - next_h ** 2)"
WRONG = "dc = dnext_c + dnext_h * (1 - next_c ** 2)"


def test_a_wrong_state_gradient_is_named_at_its_own_line(tmp_path):
    path = planted(tmp_path, "blend_cell.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    wrong = [f for f in errors(report) if f["code"] == "BPD108"]
    assert wrong, report["findings"]
    assert wrong[0]["line"] == line_of(path, WRONG), wrong[0]
    assert "`dc`" in wrong[0]["message"] and "`next_c`" in wrong[0]["message"], wrong[0]["message"]


def test_the_right_cell_has_no_error(tmp_path):
    path = planted(tmp_path, "blend_cell.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert not errors(report), errors(report)
