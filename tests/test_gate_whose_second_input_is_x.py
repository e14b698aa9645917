"""A stateless gate whose inputs are `forward(W, x)` (the RNN tutorials' `MultiplyGate`): the engine's
`x` is the first input, so the second, which the code also calls `x`, is measured under a name of its
own, and a wrong gradient of it is found at the line that computes it."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

GATES = '''\
import numpy as np


class MultiplyGate:
    def forward(self, W, x):
        return np.dot(W, x)

    def backward(self, W, x, dz):
        dW = np.asarray(np.dot(np.transpose(np.asmatrix(dz)), np.asmatrix(x)))
        dx = np.dot(np.transpose(W), dz)
        return dW, dx
'''


def test_the_right_gate_is_clean(tmp_path):
    report = check(write(tmp_path, "gate.py", GATES))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "MultiplyGate"} == {"x", "x (input 2)"}


def test_a_flipped_gradient_of_the_second_input_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "gate.py", GATES, "dx = np.dot(", "dx = -np.dot(")
    (finding,) = errors(check(path))
    assert (finding["param"], finding["line"], finding["pattern"]) == ("x (input 2)", line_of(path, "dx = -np.dot("), "sign-flipped")
