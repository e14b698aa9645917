"""A recurrent net's backward loop over time written in the training loop itself, after a forward
function the step calls (`states, outs, loss = run_forward(...)`, storing `states[k]`): its adjoints are
paired with that function's series and walked through time, so a carried gradient computed from the wrong
value (`dstate_next = W.T @ dstate`, skipping the tanh's slope) is named at its own line, not at the
accumulations of the weights' gradients it spoils. The backward loop in a function of its own is walked
the same way."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

IN_LOOP = """\
import numpy as np

rs = np.random.RandomState(2)
steps, hidden = 20, 8
wave = np.cos(np.linspace(0, 4 * np.pi, steps + 1)) * 0.8
xs, ts = wave[:-1], wave[1:]

U = rs.randn(hidden, 1) * 0.4
W = rs.randn(hidden, hidden) * 0.25
b = np.zeros((hidden, 1))
V = rs.randn(1, hidden) * 0.3
c = np.zeros((1, 1))


def run_forward(U, W, b, V, c):
    states = {-1: np.zeros((hidden, 1))}
    outs = {}
    total = 0.0
    for k in range(steps):
        states[k] = np.tanh(U * xs[k] + W @ states[k - 1] + b)
        outs[k] = V @ states[k] + c
        total += 0.5 * float(((outs[k] - ts[k]) ** 2).sum())
    return states, outs, total / steps


rate = 0.05
for sweep in range(300):
    states, outs, loss = run_forward(U, W, b, V, c)
    gU, gW, gb = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    gV, gc = np.zeros_like(V), np.zeros_like(c)
    dstate_next = np.zeros((hidden, 1))
    for k in reversed(range(steps)):
        dout = (outs[k] - ts[k]) / steps
        gV += dout @ states[k].T
        gc += dout
        dstate = V.T @ dout + dstate_next
        draw = (1 - states[k] ** 2) * dstate
        gb += draw
        gU += draw * xs[k]
        gW += draw @ states[k - 1].T
        dstate_next = W.T @ draw
    U -= rate * gU
    W -= rate * gW
    b -= rate * gb
    V -= rate * gV
    c -= rate * gc
"""

IN_FUNCTION = """\
import numpy as np

rs = np.random.RandomState(2)
steps, hidden = 20, 8
wave = np.cos(np.linspace(0, 4 * np.pi, steps + 1)) * 0.8
xs, ts = wave[:-1], wave[1:]

U = rs.randn(hidden, 1) * 0.4
W = rs.randn(hidden, hidden) * 0.25
b = np.zeros((hidden, 1))
V = rs.randn(1, hidden) * 0.3
c = np.zeros((1, 1))


def run_forward(U, W, b, V, c):
    states = {-1: np.zeros((hidden, 1))}
    outs = {}
    total = 0.0
    for k in range(steps):
        states[k] = np.tanh(U * xs[k] + W @ states[k - 1] + b)
        outs[k] = V @ states[k] + c
        total += 0.5 * float(((outs[k] - ts[k]) ** 2).sum())
    return states, outs, total / steps


def run_backward(states, outs):
    gU, gW, gb = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    gV, gc = np.zeros_like(V), np.zeros_like(c)
    dstate_next = np.zeros((hidden, 1))
    for k in reversed(range(steps)):
        dout = (outs[k] - ts[k]) / steps
        gV += dout @ states[k].T
        gc += dout
        dstate = V.T @ dout + dstate_next
        draw = (1 - states[k] ** 2) * dstate
        gb += draw
        gU += draw * xs[k]
        gW += draw @ states[k - 1].T
        dstate_next = W.T @ draw
    return gU, gW, gb, gV, gc


rate = 0.05
for sweep in range(300):
    states, outs, loss = run_forward(U, W, b, V, c)
    gU, gW, gb, gV, gc = run_backward(states, outs)
    U -= rate * gU
    W -= rate * gW
    b -= rate * gb
    V -= rate * gV
    c -= rate * gc
"""

RIGHT = "dstate_next = W.T @ draw"
WRONG = "dstate_next = W.T @ dstate"


@pytest.mark.parametrize("text", [IN_LOOP, IN_FUNCTION], ids=["in-the-loop", "in-a-function"])
def test_the_correct_recurrent_step_is_clean(tmp_path, text):
    assert errors(check(write(tmp_path, "elman.py", text))) == []


@pytest.mark.parametrize("text", [IN_LOOP, IN_FUNCTION], ids=["in-the-loop", "in-a-function"])
def test_a_wrong_carried_gradient_is_named_at_its_line(tmp_path, text):
    path = planted(tmp_path, "elman.py", text, RIGHT, WRONG)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD108", line_of(path, WRONG))
    assert finding["message"].startswith(f"`dstate` (line {line_of(path, 'dstate = V.T @ dout')}) is wrong first at time step 18 of 0..19")
    assert f"`dstate_next` (line {line_of(path, WRONG)}), which carries the gradient from step 19 back to step 18" in finding["message"]
