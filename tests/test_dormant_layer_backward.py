"""A layer object the program uses for its forward only, whose own backward is broken: the program
writes that derivative out by hand and never calls it, so the broken method is a warning, never the
reason the loss does what it does. Once the program does call it, it is the error it always was."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

PROGRAM = """\
import numpy as np


class Tanh:
    def forward(self, z):
        self.out = np.tanh(z)
        return self.out

    def backward(self, dout):
        return dout * self.slope()  # no such method


class Recurrent:
    def __init__(self, n_in, n_hidden):
        rng = np.random.default_rng(3)
        self.Wx = 0.3 * rng.standard_normal((n_in, n_hidden))
        self.act = Tanh()

    def forward(self, x):
        self.x = x
        self.h = self.act.forward(x @ self.Wx)
        return self.h

    def backward(self, dh):
        dz = dh * (1.0 - self.h ** 2)
        self.dWx = self.x.T @ dz
        return dz @ self.Wx.T


rng = np.random.default_rng(0)
x = rng.standard_normal((16, 5))
target = 0.5 * np.tanh(rng.standard_normal((16, 4)))
layer = Recurrent(5, 4)
for epoch in range(40):
    h = layer.forward(x)
    loss = 0.5 * np.sum((h - target) ** 2)
    layer.backward(h - target)
    layer.Wx -= 0.05 * layer.dWx
"""


def _raised(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "layer-raised" and f["layer"] == "Tanh"]


def test_a_broken_backward_the_program_never_calls_is_a_warning_at_its_line(tmp_path):
    path = write(tmp_path, "rnn_cell.py", PROGRAM)
    report = check(path)
    assert errors(report) == []
    (raised,) = _raised(report)
    assert raised["severity"] == "warning"
    assert raised["line"] == line_of(path, "self.slope()")
    assert "your program never calls `Tanh.backward`" in raised["message"]
    assert report["root_cause"] is None or report["root_cause"]["name"] != "layer-raised"


def test_the_same_backward_is_an_error_once_the_program_calls_it(tmp_path):
    calling = PROGRAM.replace("        dz = dh * (1.0 - self.h ** 2)\n", "        dz = self.act.backward(dh)\n")
    path = write(tmp_path, "rnn_cell.py", calling)
    report = check(path)
    (raised,) = _raised(report)
    assert raised["severity"] == "error"
    assert raised["line"] == line_of(path, "self.slope()")
    assert "never calls" not in raised["message"]


def test_a_correct_backward_never_called_gets_nothing(tmp_path):
    fixed = PROGRAM.replace("dout * self.slope()", "dout * (1.0 - self.out ** 2)")
    report = check(write(tmp_path, "rnn_cell.py", fixed))
    assert _raised(report) == [] and errors(report) == []
