"""A recurrent net written as cs231n-style step functions (`lstm_cell_forward`/`lstm_cell_backward`) that a
forward and a backward function call once per time step in their loops: the replay walks the cell's
adjoints at each time step (`dg` at step t against `g` moved in the forward call of step t), so a wrong
gate gradient inside the step function is named at its own line, with its gate, not at the loss the
backward loop hands back at its end (`dh0 = dh_prev`, the gradient of `h0`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_cell_forward(x, h_prev, c_prev, Wx, Wh, b):
    n = h_prev.shape[1]
    z = x @ Wx + h_prev @ Wh + b
    i = sig(z[:, :n])
    f = sig(z[:, n:2 * n])
    o = sig(z[:, 2 * n:3 * n])
    g = np.tanh(z[:, 3 * n:])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, o, g, tc)


def lstm_cell_backward(dh, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, o, g, tc = cache
    dcs = dc_next + dh * o * (1 - tc ** 2)
    do = dh * tc
    df = dcs * c_prev
    di = dcs * g
    dg = dcs * i
    dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)], axis=1)
    return dz @ Wx.T, dz @ Wh.T, dcs * f, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)


def unroll(xs, h0, Wx, Wh, b):
    steps = xs.shape[1]
    h = h0
    c = np.zeros_like(h0)
    hs, caches = [], []
    for t in range(steps):
        h, c, cache = lstm_cell_forward(xs[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def unroll_back(dhs, caches):
    steps = dhs.shape[1]
    dWx = np.zeros_like(caches[0][3])
    dWh = np.zeros_like(caches[0][4])
    db = np.zeros(dWx.shape[1])
    dh_prev = np.zeros_like(dhs[:, 0])
    dc_prev = np.zeros_like(dhs[:, 0])
    for t in reversed(range(steps)):
        _, dh_prev, dc_prev, gx, gh, gb = lstm_cell_backward(dhs[:, t] + dh_prev, dc_prev, caches[t])
        dWx += gx
        dWh += gh
        db += gb
    dh0 = dh_prev
    return dWx, dWh, db, dh0


def objective(p, xs, ys):
    batch = xs.shape[0]
    h0 = np.zeros((batch, p["V"].shape[0]))
    hs, caches = unroll(xs, h0, p["Wx"], p["Wh"], p["b"])
    out = hs @ p["V"] + p["c"]
    err = out - ys
    loss = 0.5 * np.sum(err ** 2) / batch
    dout = err / batch
    g = {"V": np.einsum("ntk,ntm->km", hs, dout), "c": dout.sum(axis=(0, 1))}
    dhs = dout @ p["V"].T
    g["Wx"], g["Wh"], g["b"], dh0 = unroll_back(dhs, caches)
    return loss, g


rng = np.random.RandomState(3)
batch, steps, features, hidden = 10, 6, 2, 5
xs = rng.randn(batch, steps, features)
ys = np.cumsum(xs[:, :, :1], axis=1) * 0.3
p = {
    "Wx": rng.randn(features, 4 * hidden) * 0.5,
    "Wh": rng.randn(hidden, 4 * hidden) * 0.3,
    "b": np.zeros(4 * hidden),
    "V": rng.randn(hidden, 1) * 0.5,
    "c": np.zeros(1),
}
for it in range(120):
    loss, g = objective(p, xs, ys)
    for key in p:
        p[key] -= 0.05 * g[key]
    if it % 30 == 0:
        print(it, loss)
'''

RIGHT = "    dg = dcs * i\n"
WRONG = "    dg = dcs * f\n"


def test_a_right_lstm_written_as_step_functions_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "cells.py", PROGRAM, RIGHT, RIGHT))) == []


def test_a_wrong_gate_gradient_inside_the_step_function_is_named_with_its_gate_and_time_step(tmp_path):
    path = planted(tmp_path, "cells.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    line = line_of(path, "dg = dcs * f")
    assert (root["code"], root["line"], root["param"]) == ("BPD108", line, "dg")
    verdict = " ".join(report["verdict"].split()).split(": ", 1)[1]
    assert verdict.startswith(f"At time step 5 (the last one, where the backward pass starts), `dg` (line {line})"), verdict
    assert "the candidate cell" in verdict and f"`g` (line {line_of(path, 'g = np.tanh(z[:, 3 * n:])')})" in verdict


RNN = '''\
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    next_h = np.tanh(a)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da.dot(Wx.T)
    dprev_h = da.dot(Wh.T)
    dWx = x.T.dot(da)
    dWh = prev_h.T.dot(da)
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    caches = []
    for t in range(T):
        prev, cache = rnn_step_forward(x[:, t, :], prev, Wx, Wh, b)
        h[:, t, :] = prev
        caches.append(cache)
    return h, caches


def rnn_backward(dh, caches):
    N, T, H = dh.shape
    D = caches[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev
    return dx, dh0, dWx, dWh, db


def loss_fn(params, x, y):
    N = x.shape[0]
    h0 = np.zeros((N, params["Wh"].shape[0]))
    h, caches = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    scores = h.dot(params["Wy"])
    diff = scores - y
    loss = 0.5 * np.sum(diff ** 2) / N
    dscores = diff / N
    grads = {"Wy": np.einsum("nth,nto->ho", h, dscores)}
    dh = dscores.dot(params["Wy"].T)
    _, dh0, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, caches)
    return loss, grads


np.random.seed(1)
N, T, D, H = 8, 5, 3, 6
x = np.random.randn(N, T, D)
y = np.cumsum(x[:, :, :1], axis=1) * 0.2
params = {"Wx": np.random.randn(D, H) * 0.3, "Wh": np.random.randn(H, H) * 0.3, "b": np.zeros(H), "Wy": np.random.randn(H, 1) * 0.3}
for it in range(100):
    loss, grads = loss_fn(params, x, y)
    for k in params:
        params[k] -= 0.1 * grads[k]
print(loss)
'''

RNN_RIGHT = "    da = dnext_h * (1 - next_h ** 2)\n"
RNN_WRONG = "    da = dnext_h * (1 - next_h)\n"


def test_a_right_rnn_written_as_step_functions_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "rnn_steps.py", RNN, RNN_RIGHT, RNN_RIGHT))) == []


def test_a_wrong_tanh_derivative_in_the_rnn_step_function_is_named_there_not_at_dh0(tmp_path):
    path = planted(tmp_path, "rnn_steps.py", RNN, RNN_RIGHT, RNN_WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["param"]) == ("BPD108", line_of(path, "da = dnext_h * (1 - next_h)"), "da")
    assert root["message"].startswith("at time step 4 (the last one, where the backward pass starts), `da`")


# the cell gradient carried back as a name the cell binds (`dc_prev`), and the incoming one added to in place
CARRIED = (
    PROGRAM.replace(
        """def lstm_cell_backward(dh, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, o, g, tc = cache
    dcs = dc_next + dh * o * (1 - tc ** 2)
    do = dh * tc
    df = dcs * c_prev
    di = dcs * g
    dg = dcs * i
""",
        """def lstm_cell_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, o, g, tc = cache
    dc = dc + dh * o * (1 - tc ** 2)
    do = dh * tc
    df = dc * c_prev
    di = dc * g
    dg = dc * i
    dc_prev = dc * f
""",
    )
    .replace("return dz @ Wx.T, dz @ Wh.T, dcs * f, x.T @ dz", "return dz @ Wx.T, dz @ Wh.T, dc_prev, x.T @ dz")
    .replace("dc_prev = np.zeros_like(dhs[:, 0])", "dc = np.zeros_like(dhs[:, 0])")
    .replace("lstm_cell_backward(dhs[:, t] + dh_prev, dc_prev, caches[t])", "lstm_cell_backward(dhs[:, t] + dh_prev, dc, caches[t])")
    .replace("_, dh_prev, dc_prev, gx, gh, gb =", "_, dh_prev, dc, gx, gh, gb =")
)


def test_a_cell_gradient_carried_back_without_its_forget_gate_is_named_where_it_is_carried(tmp_path):
    assert CARRIED.count("dc_prev") == 2  # every replacement took
    assert errors(check(planted(tmp_path, "cells.py", CARRIED, "dc_prev = dc * f", "dc_prev = dc * f"))) == []
    path = planted(tmp_path, "cells.py", CARRIED, "dc_prev = dc * f", "dc_prev = dc")
    root = check(path)
    found = root["findings"][root["root_cause"]]
    assert (found["code"], found["line"]) == ("BPD108", line_of(path, "    dc_prev = dc"))
    # measured directly against the cell state the forward step is handed (`c_prev`), or as what carries it back a step
    assert "`dc_prev` (line" in found["message"]
    assert "which carries the gradient from step 5 back to step 4" in found["message"] or "with respect to `c_prev`, the state `lstm_cell_forward` is handed" in found["message"]
