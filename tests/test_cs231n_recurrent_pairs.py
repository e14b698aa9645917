"""cs231n's recurrent function pairs are built from their argument names and checked.

`rnn_step_forward(x, prev_h, Wx, Wh, b)`, `rnn_forward(x, h0, Wx, Wh, b)` on a sequence
`(N, T, D)`, `lstm_forward` with its four gates side by side in `Wx (D, 4H)`, and
`temporal_affine_forward(x, w, b)` used to be "cannot guess a value for `prev_h`": an assignment-3
file was left unchecked. `lstm_step_forward -> (next_h, next_c, cache)` has two outputs; it is
checked with both side by side, its backward given `dnext_h` and `dnext_c`.
"""

from __future__ import annotations

import numpy as np

from backprop_doctor.build import _recurrent_case
from tests.userfiles import check, errors, line_of, planted, write

RNN_LAYERS = '''\
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
    h = np.zeros((N, T, h0.shape[1]))
    caches = []
    prev_h = h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches


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


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
    cache = x, w, b, out
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    db = dout.sum(axis=(0, 1))
    return dx, dw, db
'''


LSTM_STEP = '''\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    do = dnext_h * tc
    di = dc * g
    df = dc * prev_c
    dg = dc * i
    dprev_c = dc * f
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db
'''


def _wrong(report: dict) -> set[tuple[str, str]]:
    return {(f["layer"], f["param"]) for f in errors(report) if f["code"] == "BPD101"}


def test_correct_recurrent_pairs_are_built_and_clean(tmp_path):
    report = check(write(tmp_path, "rnn_layers.py", RNN_LAYERS))
    assert errors(report) == []
    measured = {(m["layer"], m["param"]) for m in report["measurements"]}
    assert {("rnn_step", "prev_h"), ("rnn_step", "Wh"), ("rnn", "h0"), ("rnn", "Wx"), ("temporal_affine", "w")} <= measured
    shapes = {b["what"]: b["shapes"] for b in report["built"]}
    assert shapes["rnn_forward/rnn_backward"].startswith("x (2, 4, 5)")  # a sequence
    assert shapes["rnn_step_forward/rnn_step_backward"].startswith("x (2, 5)")  # one time step


def test_a_backward_through_time_that_drops_the_carried_gradient_is_wrong_in_rnn_only(tmp_path):
    path = planted(tmp_path, "rnn_layers.py", RNN_LAYERS, "dh[:, t, :] + dprev_h, cache[t]", "dh[:, t, :], cache[t]")
    wrong = _wrong(check(path))
    assert ("rnn", "Wh") in wrong and ("rnn", "h0") in wrong
    assert not {w for w in wrong if w[0] == "rnn_step"}  # the step itself is right


def test_a_wrong_tanh_derivative_in_the_step_is_wrong_in_the_step(tmp_path):
    path = planted(tmp_path, "rnn_layers.py", RNN_LAYERS, "dtanh = dnext_h * (1 - next_h ** 2)", "dtanh = dnext_h * (1 - next_h)")
    report = check(path)
    wrong = _wrong(report)
    assert {("rnn_step", "Wx"), ("rnn_step", "prev_h")} <= wrong
    assert ("rnn", "Wx") in wrong  # the sequence is made of those steps...
    root = report["findings"][report["root_cause"]]
    assert root["layer"] == "rnn_step"  # ...so the step is the cause, though `rnn` sorts first by name
    assert root["line"] in range(line_of(path, "def rnn_step_backward"), line_of(path, "def rnn_forward"))


def _forward(x, prev_h, Wx, Wh, b):
    return x


def _lstm_forward(x, h0, Wx, Wh, bh):
    return x


def _gru_step_forward(x, prev_h, Wx, Wh, b, Wxt):
    return x


def test_the_synthesised_arguments_follow_the_recurrent_names():
    rng = np.random.default_rng(0)
    ((_, x, (h, wx, wh, b)),) = _recurrent_case("rnn_step", _forward, rng, 3)
    assert x.shape == (3, 5) and h.shape == (3, 6) and wx.shape == (5, 6) and wh.shape == (6, 6) and b.shape == (6,)
    ((_, x, (h0, wx, wh, bh)),) = _recurrent_case("lstm", _lstm_forward, rng, 3)
    assert x.shape == (3, 4, 5) and wx.shape == (5, 24) and wh.shape == (6, 24) and bh.shape == (24,)
    assert _recurrent_case("gru_step", _gru_step_forward, rng, 3) is None  # an argument it cannot size


def test_a_correct_lstm_step_with_two_outputs_is_checked_in_every_argument(tmp_path):
    report = check(write(tmp_path, "lstm_step.py", LSTM_STEP))
    assert errors(report) == []
    measured = {m["param"] for m in report["measurements"] if m["layer"] == "lstm_step"}
    assert measured == {"x", "prev_h", "prev_c", "Wx", "Wh", "b"}


def test_a_cell_gradient_that_forgets_the_forget_gate_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "lstm_step.py", LSTM_STEP, "dprev_c = dc * f", "dprev_c = dc")
    found = {(f["code"], f["param"], f["line"]) for f in errors(check(path))}
    assert found == {("BPD101", "prev_c", line_of(path, "dprev_c = dc"))}
