"""A hidden layer's slope left out of the update statement itself, in the style of Rashid's book.

    self.act = lambda x: 1.0 / (1.0 + np.exp(-x))       # the activation, bound to an attribute
    ...
    back = np.dot(self.w_out.T, out_delta)                # the gradient w.r.t. the hidden *output*
    self.w_in += self.rate * np.dot(back * hid * (1.0 - hid), x.T)   # the slope, inside the update

Such programs compute no gradient of a parameter by name: the update reads the hidden layer's
error directly, and the slope belongs in that update. With the slope left out, the update is named
at its own line (not at the line that sends the error back, which is right), with the factor that
is missing; the activation is known through the lambda, the error's pairing with the hidden output
through the weight it is sent back through, whatever either is called.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

PROGRAM = """\
import numpy as np


class TinyNet:
    def __init__(self, n_in, n_hid, n_out, rate):
        self.w_in = np.random.normal(0.0, n_in ** -0.5, (n_hid, n_in))
        self.w_out = np.random.normal(0.0, n_hid ** -0.5, (n_out, n_hid))
        self.rate = rate
        self.act = lambda x: 1.0 / (1.0 + np.exp(-x))

    def train(self, x_list, t_list):
        x = np.array(x_list, ndmin=2).T
        t = np.array(t_list, ndmin=2).T
        hid = self.act(np.dot(self.w_in, x))
        out = self.act(np.dot(self.w_out, hid))
        out_delta = (t - out) * out * (1.0 - out)
        back = np.dot(self.w_out.T, out_delta)
        self.w_out += self.rate * np.dot(out_delta, hid.T)
        self.w_in += self.rate * np.dot(back * hid * (1.0 - hid), x.T)

    def query(self, x_list):
        x = np.array(x_list, ndmin=2).T
        return self.act(np.dot(self.w_out, self.act(np.dot(self.w_in, x))))


np.random.seed(3)
net = TinyNet(6, 9, 2, 0.4)
samples = []
for k in range(80):
    cls = k % 2
    v = np.random.rand(6) * 0.3
    v[cls * 3:cls * 3 + 3] += 0.6
    samples.append((cls, v))
for epoch in range(10):
    for cls, v in samples:
        goal = np.zeros(2) + 0.01
        goal[cls] = 0.99
        net.train(v, goal)
"""

CORRECT = "self.w_in += self.rate * np.dot(back * hid * (1.0 - hid), x.T)"
LEFT_OUT = "self.w_in += self.rate * np.dot(back, x.T)"

TANH = (("self.act = lambda x: 1.0 / (1.0 + np.exp(-x))", "self.act = lambda x: np.tanh(x)"), ("out * (1.0 - out)", "(1.0 - out ** 2)"))


def _program(*edits: tuple[str, str]) -> str:
    text = PROGRAM
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_correct_update_is_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "tiny_net.py", PROGRAM, CORRECT, CORRECT))
    assert errors(report) == []


def test_a_sigmoid_slope_left_out_of_the_update_is_named_at_the_update(tmp_path: Path) -> None:
    path = planted(tmp_path, "tiny_net.py", PROGRAM, CORRECT, LEFT_OUT)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["pattern"]) == ("BPD108", "net.w_in", "missing-activation-derivative")
    assert finding["line"] == line_of(path, LEFT_OUT)
    assert finding["highlight"] == [line_of(path, "back = np.dot"), line_of(path, LEFT_OUT)]
    assert "`back` (line" in finding["message"] and "the gradient with respect to `hid`, the sigmoid's output" in finding["message"]
    assert finding["message"].endswith("multiply `back` by `hid * (1 - hid)` in that update")


@pytest.mark.parametrize("edits", [TANH], ids=["tanh"])
def test_a_tanh_slope_left_out_of_the_update_names_its_own_derivative(tmp_path: Path, edits: tuple[tuple[str, str], ...]) -> None:
    path = planted(tmp_path, "tiny_net.py", _program(*edits), "back * hid * (1.0 - hid)", "back")
    (finding,) = errors(check(path))
    assert (finding["pattern"], finding["line"]) == ("missing-activation-derivative", line_of(path, LEFT_OUT))
    assert finding["message"].endswith("multiply `back` by `1 - hid ** 2` in that update")
    assert errors(check(planted(tmp_path, "tiny_net_ok.py", _program(*edits), "back * hid * (1.0 - hid)", "back * (1.0 - hid ** 2)"))) == []


def test_an_update_written_as_a_new_binding_is_named_the_same_way(tmp_path: Path) -> None:
    rebound = "self.w_in = self.w_in + self.rate * np.dot(back, x.T)"
    path = planted(tmp_path, "tiny_net.py", PROGRAM, CORRECT, rebound)
    (finding,) = errors(check(path))
    assert (finding["pattern"], finding["line"]) == ("missing-activation-derivative", line_of(path, rebound))
    assert finding["message"].endswith("multiply `back` by `hid * (1 - hid)` in that update")
