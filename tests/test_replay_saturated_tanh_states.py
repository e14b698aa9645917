"""A tanh saturated in floating point: hidden states exactly 1.0 or -1.0 beside others inside (-1, 1).

An RNN whose weights are large (`randn` of scale 2 or more) drives some pre-activations past 19,
where `np.tanh` returns exactly ±1. The backward pass's `dhraw = (1 - hs[t] ** 2) * dh` is then
still the gradient of the pre-activation (its slope there is 0, as `1 - 1` says). The step replay
measures `dhraw` against `hs[t]` moved through the tanh's slope, so a state with entries on the
bound must still allow a tanh: otherwise `dhraw` reads "not the gradient of the hidden state, nor
of its pre-activation", and the finding lands there instead of at the real bug."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

SCRIPT = """
import numpy as np

rng = np.random.default_rng(8)
D, H, K, steps = 5, 28, 3, 10
A = rng.standard_normal((H, D)) * 2.5
B = rng.standard_normal((H, H)) * 2.5
C = rng.standard_normal((K, H)) * 0.3
a0 = np.zeros((H, 1))
c0 = np.zeros((K, 1))
inputs = [rng.standard_normal((D, 1)) for _ in range(steps)]
labels = [int(rng.integers(0, K)) for _ in range(steps)]

for epoch in range(50):
    hs, ps = {-1: np.zeros((H, 1))}, {}
    loss = 0.0
    for t in range(steps):
        hs[t] = np.tanh(A @ inputs[t] + B @ hs[t - 1] + a0)
        z = C @ hs[t] + c0
        e = np.exp(z - z.max())
        ps[t] = e / e.sum()
        loss -= np.log(ps[t][labels[t], 0])
    dA, dB, dC = np.zeros_like(A), np.zeros_like(B), np.zeros_like(C)
    da0, dc0 = np.zeros_like(a0), np.zeros_like(c0)
    dhnext = np.zeros((H, 1))
    for t in reversed(range(steps)):
        dz = ps[t].copy()
        dz[labels[t]] -= 1
        dC += dz @ hs[t].T
        dc0 -= dz
        dh = C.T @ dz + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        da0 += dhraw
        dA += dhraw @ inputs[t].T
        dB += dhraw @ hs[t - 1].T
        dhnext = B.T @ dhraw
    A -= 0.02 * dA
    B -= 0.02 * dB
    C -= 0.02 * dC
    a0 -= 0.02 * da0
    c0 -= 0.02 * dc0
print(loss)
"""

FUNCTION = """
import numpy as np

rng = np.random.default_rng(21)
n_in, n_hid, n_out, T = 4, 30, 2, 12
Wx = rng.standard_normal((n_hid, n_in)) * 2.0
Wh = rng.standard_normal((n_hid, n_hid)) * 2.0
Wo = rng.standard_normal((n_out, n_hid)) * 0.2
bh = np.zeros((n_hid, 1))
bo = np.zeros((n_out, 1))
seq = [rng.standard_normal((n_in, 1)) for _ in range(T)]
goal = [np.array([[np.sin(0.4 * t)], [np.cos(0.4 * t)]]) for t in range(T)]


def run_sequence(seq, goal):
    hs, outs = {-1: np.zeros((n_hid, 1))}, {}
    loss = 0.0
    for t in range(len(seq)):
        hs[t] = np.tanh(Wx @ seq[t] + Wh @ hs[t - 1] + bh)
        outs[t] = Wo @ hs[t] + bo
        loss += 0.5 * float(np.sum((outs[t] - goal[t]) ** 2))
    gWx, gWh, gWo = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(Wo)
    gbh, gbo = np.zeros_like(bh), np.zeros_like(bo)
    dhnext = np.zeros((n_hid, 1))
    for t in reversed(range(len(seq))):
        dy = outs[t] - goal[t]
        gWo += dy @ hs[t].T
        gbo += dy
        gbo += dy
        dh = Wo.T @ dy + dhnext
        dhraw = (1 - hs[t] ** 2) * dh
        gbh += dhraw
        gWx += dhraw @ seq[t].T
        gWh += dhraw @ hs[t - 1].T
        dhnext = Wh.T @ dhraw
    return loss, gWx, gWh, gWo, gbh, gbo


for it in range(80):
    loss, gWx, gWh, gWo, gbh, gbo = run_sequence(seq, goal)
    Wx -= 0.005 * gWx
    Wh -= 0.005 * gWh
    Wo -= 0.005 * gWo
    bh -= 0.005 * gbh
    bo -= 0.005 * gbo
print(loss)
"""

FLIPPED = "        dc0 -= dz"
FLIPPED_RIGHT = "        dc0 += dz"
TWICE = "        gbo += dy\n        gbo += dy\n"
ONCE = "        gbo += dy\n"


def test_a_script_with_saturated_states_is_told_at_its_flipped_bias_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "rnn_script.py", SCRIPT, FLIPPED, FLIPPED)
    found = errors(check(path))
    assert [(f["code"], f["param"], f["line"]) for f in found] == [("BPD108", "c0", line_of(path, FLIPPED.strip()))], found
    assert "dhraw" not in found[0]["message"], found[0]["message"]


def test_a_function_with_saturated_states_is_told_at_its_doubled_bias_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "rnn_function.py", FUNCTION, TWICE, TWICE)
    found = errors(check(path))
    assert [(f["code"], f["param"]) for f in found] == [("BPD108", "bo")], found
    assert "dhraw" not in found[0]["message"], found[0]["message"]


def test_a_script_with_saturated_states_and_right_gradients_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "rnn_script_ok.py", SCRIPT, FLIPPED, FLIPPED_RIGHT))) == []


def test_a_function_with_saturated_states_and_right_gradients_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "rnn_function_ok.py", FUNCTION, TWICE, ONCE))) == []
