"""A recurrent layer whose forward walks its first input one time step at a time (`for t in
range(len(inputs)): ... inputs[t] @ Wxh`) and whose backward transposes each step (`inputs[t].T @
draw`): each step is a (1, D) row, the input a sequence of them, (T, 1, D), with a (1, H) state. It is
checked on that shape; before, it was given (N, D) rows, its backward raised on them and the layer got
an error. Two styles: a list of states with `@`, returning the last state, and a dict of states with
`np.dot` and an output layer; each correct layer is clean, a wrong tanh slope is reported, and a
backward that raises on the sequence of rows is still named at its line."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

LIST_OF_STATES = """\
    import numpy as np


    class ElmanRNN:
        def __init__(self, n_in, n_hidden):
            rng = np.random.default_rng(7)
            self.Wxh = rng.normal(0.0, 0.3, (n_in, n_hidden))
            self.Whh = rng.normal(0.0, 0.3, (n_hidden, n_hidden))
            self.bh = np.zeros((1, n_hidden))

        def forward(self, inputs, h0):
            self.inputs = inputs
            self.hs = [h0]
            for t in range(len(inputs)):
                self.hs.append(np.tanh(inputs[t] @ self.Wxh + self.hs[-1] @ self.Whh + self.bh))
            return self.hs[-1]

        def backward(self, dh):
            self.dWxh = np.zeros_like(self.Wxh)
            self.dWhh = np.zeros_like(self.Whh)
            self.dbh = np.zeros_like(self.bh)
            dinputs = np.zeros_like(self.inputs)
            for t in reversed(range(len(self.inputs))):
                draw = dh * (1 - self.hs[t + 1] ** 2)
                self.dWxh += self.inputs[t].T @ draw
                self.dWhh += self.hs[t].T @ draw
                self.dbh += draw
                dinputs[t] = draw @ self.Wxh.T
                dh = draw @ self.Whh.T
            return dinputs, dh
"""

DICT_OF_STATES = """\
    import numpy as np


    class CharRNN:
        def __init__(self, input_size, hidden_size, output_size):
            self.U = np.random.randn(input_size, hidden_size) * 0.1
            self.W = np.random.randn(hidden_size, hidden_size) * 0.1
            self.V = np.random.randn(hidden_size, output_size) * 0.1
            self.b = np.zeros((1, hidden_size))
            self.c = np.zeros((1, output_size))

        def forward(self, xs, h_prev):
            self.xs = xs
            self.h = {-1: np.copy(h_prev)}
            for t in range(len(xs)):
                self.h[t] = np.tanh(np.dot(xs[t], self.U) + np.dot(self.h[t - 1], self.W) + self.b)
            return np.dot(self.h[len(xs) - 1], self.V) + self.c

        def backward(self, dlogits):
            self.dV = np.dot(self.h[len(self.xs) - 1].T, dlogits)
            self.dc = np.sum(dlogits, axis=0, keepdims=True)
            self.dU, self.dW, self.db = np.zeros_like(self.U), np.zeros_like(self.W), np.zeros_like(self.b)
            dxs = np.zeros_like(self.xs)
            dh = np.dot(dlogits, self.V.T)
            for t in reversed(range(len(self.xs))):
                dz = dh * (1 - self.h[t] ** 2)
                self.db += np.sum(dz, axis=0, keepdims=True)
                self.dU += np.dot(self.xs[t].T, dz)
                self.dW += np.dot(self.h[t - 1].T, dz)
                dxs[t] = np.dot(dz, self.U.T)
                dh = np.dot(dz, self.W.T)
            return dxs, dh
"""


def _verdicts(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"]}


def test_a_layer_walking_rows_of_a_sequence_is_checked_on_them(tmp_path: Path) -> None:
    report = check(write(tmp_path, "elman.py", LIST_OF_STATES))
    assert errors(report) == [], errors(report)
    verdicts = _verdicts(report)
    assert {"Wxh", "Whh", "bh"} <= set(verdicts) and set(verdicts.values()) == {"ok"}, verdicts
    assert any("(4, 1, 12)" in b["shapes"] for b in report["built"]), report["built"]


def test_a_wrong_tanh_slope_in_the_rows_layer_is_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "elman.py", LIST_OF_STATES, "draw = dh * (1 - self.hs[t + 1] ** 2)", "draw = dh * (1 - self.hs[t + 1])")
    found = errors(check(path))
    assert found and all(f["code"] != "BPD105" for f in found), found


def test_a_backward_that_raises_on_the_rows_is_still_named(tmp_path: Path) -> None:
    wrong = "self.dWxh += self.inputs[t] @ draw"
    path = planted(tmp_path, "elman.py", LIST_OF_STATES, "self.dWxh += self.inputs[t].T @ draw", wrong)
    found = errors(check(path))
    assert any(f["code"] == "BPD105" and f["line"] == line_of(path, wrong) for f in found), found


def test_a_layer_with_a_dict_of_states_is_checked_on_rows(tmp_path: Path) -> None:
    report = check(write(tmp_path, "char_rnn.py", DICT_OF_STATES))
    assert errors(report) == [], errors(report)
    verdicts = _verdicts(report)
    assert {"U", "W", "V", "b", "c"} <= set(verdicts) and set(verdicts.values()) == {"ok"}, verdicts


def test_a_wrong_slope_in_the_dict_of_states_is_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "char_rnn.py", DICT_OF_STATES, "dz = dh * (1 - self.h[t] ** 2)", "dz = dh * (1 - self.h[t])")
    found = errors(check(path))
    assert found and all(f["code"] != "BPD105" for f in found), found
