"""The same `+=` written twice in a row: a sum that takes one term twice.

    dby += dy
    dh = ...            # nothing here rebinds `dby` or `dy`
    dby += dy           # copied once too often: `dby` is twice its gradient

The step replay measures the bias's gradient at 2 × the loss's; the statement repeated word for
word in the same block, with neither its target nor what it adds rebound in between, is what makes
that factor, so the finding names both lines and says to delete the second one (the factor of a
batch of 2 or a square's 2 is a guess there)."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

CLASS = """
import numpy as np


class SeqNet:
    def __init__(self, n_in, n_hid, seed):
        rng = np.random.default_rng(seed)
        self.U = rng.standard_normal((n_hid, n_in)) * 3.0
        self.R = rng.standard_normal((n_hid, n_hid)) * 3.0
        self.c = np.zeros((n_hid, 1))
        self.v = rng.standard_normal((1, n_hid)) * 0.1
        self.k = np.zeros((1, 1))

    def loss_and_grads(self, xs, target):
        states = [np.zeros((self.c.shape[0], 1))]
        for x in xs:
            states.append(np.tanh(self.U @ x + self.R @ states[-1] + self.c))
        out = self.v @ states[-1] + self.k
        loss = 0.5 * float(((out - target) ** 2).sum())
        dout = out - target
        dv = dout @ states[-1].T
        dk = dout.copy()
        dU, dR, dc = np.zeros_like(self.U), np.zeros_like(self.R), np.zeros_like(self.c)
        dstate = self.v.T @ dout
        for t in reversed(range(len(xs))):
            dpre = (1.0 - states[t + 1] ** 2) * dstate
            dc += dpre
            dc += dpre
            dU += dpre @ xs[t].T
            dR += dpre @ states[t].T
            dstate = self.R.T @ dpre
        return loss, dU, dR, dc, dv, dk


rng = np.random.default_rng(4)
xs = [rng.standard_normal((3, 1)) for _ in range(10)]
target = np.array([[0.7]])
net = SeqNet(3, 24, 9)
for it in range(60):
    loss, dU, dR, dc, dv, dk = net.loss_and_grads(xs, target)
    net.U -= 0.01 * dU
    net.R -= 0.01 * dR
    net.c -= 0.01 * dc
    net.v -= 0.01 * dv
    net.k -= 0.01 * dk
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

CLASS_TWICE = "            dc += dpre\n            dc += dpre\n"
CLASS_ONCE = "            dc += dpre\n"
FUNCTION_TWICE = "        gbo += dy\n        gbo += dy\n"
FUNCTION_ONCE = "        gbo += dy\n"


def _added_twice(path: Path, statement: str) -> None:
    (finding,) = errors(check(path))
    lines = [i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text.strip() == statement]
    assert len(lines) == 2, lines
    assert (finding["code"], finding["line"], finding["pattern"]) == ("BPD108", lines[1], "added-twice"), finding
    assert f"`{statement}` is written twice, at lines {lines[0]} and {lines[1]}" in finding["message"], finding["message"]


def test_a_class_adding_a_bias_term_twice_is_told_at_the_second_add(tmp_path: Path) -> None:
    _added_twice(planted(tmp_path, "twice_class.py", CLASS, CLASS_TWICE, CLASS_TWICE), "dc += dpre")


def test_a_function_adding_a_bias_term_twice_is_told_at_the_second_add(tmp_path: Path) -> None:
    _added_twice(planted(tmp_path, "twice_function.py", FUNCTION, FUNCTION_TWICE, FUNCTION_TWICE), "gbo += dy")


def test_a_class_adding_it_once_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "once_class.py", CLASS, CLASS_TWICE, CLASS_ONCE))) == []


def test_a_function_adding_it_once_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "once_function.py", FUNCTION, FUNCTION_TWICE, FUNCTION_ONCE))) == []
