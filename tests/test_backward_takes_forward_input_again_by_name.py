"""A recurrent layer whose backward takes its upstream gradient, then forward's input again under the same
name (`forward(seq, h0)` / `backward(dscores, seq)`), and returns its parameters' gradients only (no
input gradient: the sequence is data). The check hands backward the input forward was given, where that
name stands, and reads what it returns as the parameters' gradients by their names; forward's outputs
that backward takes no gradient for (the last state beside the scores) are not part of the check. Both
as the file's class alone (a sequence of (1, D) rows) and as the program's own run calls it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, planted

# style 1: the class alone; forward returns (scores, last state); states kept in a dict by time step
CLASS_ALONE = """\
    import numpy as np


    class Elman:
        def __init__(self, n_in, n_hidden, n_out):
            self.U = np.random.randn(n_in, n_hidden) * 0.3
            self.V = np.random.randn(n_hidden, n_hidden) * 0.3
            self.O = np.random.randn(n_hidden, n_out) * 0.3
            self.c = np.zeros((1, n_hidden))
            self.d = np.zeros((1, n_out))

        def forward(self, seq, h0):
            self.states = {-1: h0.copy()}
            for t in range(len(seq)):
                self.states[t] = np.tanh(np.dot(seq[t], self.U) + np.dot(self.states[t - 1], self.V) + self.c)
            last = self.states[len(seq) - 1]
            return np.dot(last, self.O) + self.d, last

        def backward(self, dscores, seq):
            dU, dV, dc = np.zeros_like(self.U), np.zeros_like(self.V), np.zeros_like(self.c)
            last = self.states[len(seq) - 1]
            dO = np.dot(last.T, dscores)
            dd = dscores.sum(axis=0, keepdims=True)
            dh = np.dot(dscores, self.O.T)
            for t in reversed(range(len(seq))):
                dz = (1 - self.states[t] ** 2) * dh
                dU += np.dot(seq[t].T, dz)
                dV += np.dot(self.states[t - 1].T, dz)
                dc += dz.sum(axis=0, keepdims=True)
                dh = np.dot(dz, self.V.T)
            return dU, dV, dO, dc, dd
"""

# style 2: a script; the encoder returns its last state only, kept in a list, and the loop trains it
SCRIPT = """\
    import numpy as np

    rng = np.random.default_rng(5)


    class Encoder:
        def __init__(self, n_in, n_hidden):
            self.Wx = rng.normal(0, 0.4, (n_in, n_hidden))
            self.Wh = rng.normal(0, 0.4, (n_hidden, n_hidden))
            self.b = np.zeros(n_hidden)

        def forward(self, xs, h_start):
            self.hs = [h_start]
            for x in xs:
                self.hs.append(np.tanh(x @ self.Wx + self.hs[-1] @ self.Wh + self.b))
            return self.hs[-1]

        def backward(self, dh, xs):
            dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
            for step in range(len(xs), 0, -1):
                da = dh * (1.0 - self.hs[step] ** 2)
                dWx += np.outer(xs[step - 1], da)
                dWh += np.outer(self.hs[step - 1], da)
                db += da
                dh = da @ self.Wh.T
            return dWx, dWh, db


    enc = Encoder(4, 6)
    readout = rng.normal(0, 0.4, 6)
    for it in range(40):
        xs = rng.normal(size=(5, 4))
        goal = float(xs[:, 0].sum() > 0)
        h = enc.forward(xs, np.zeros(6))
        p = 1 / (1 + np.exp(-(h @ readout)))
        loss = -(goal * np.log(p) + (1 - goal) * np.log(1 - p))
        grads = enc.backward((p - goal) * readout, xs)
        readout -= 0.1 * (p - goal) * h
        for w, g in zip((enc.Wx, enc.Wh, enc.b), grads):
            w -= 0.1 * g
"""

PROGRAMS = {
    "elman.py": (CLASS_ALONE, "Elman", {"U", "V", "O", "c", "d"}, "dz = (1 - self.states[t] ** 2) * dh", "dz = (1 - self.states[t]) * dh"),
    "encoder.py": (SCRIPT, "Encoder", {"Wx", "Wh", "b"}, "dWh += np.outer(self.hs[step - 1], da)", "dWh += np.outer(self.hs[step], da)"),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_input_is_handed_back_and_the_returned_gradients_checked(tmp_path: Path, name: str) -> None:
    text, layer, params, correct, _ = PROGRAMS[name]
    report = check(planted(tmp_path, name, text, correct, correct))
    assert errors(report) == [], errors(report)
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}
    assert verdicts == dict.fromkeys(params, "ok"), report["measurements"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_planted_mistake_in_that_backward_is_found(tmp_path: Path, name: str) -> None:
    text, layer, params, correct, wrong = PROGRAMS[name]
    found = errors(check(planted(tmp_path, name, text, correct, wrong)))
    assert any(f["name"] == "gradient-mismatch" and f["layer"] == layer for f in found), found
