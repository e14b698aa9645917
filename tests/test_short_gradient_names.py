"""A parameter spelled out (`self.weights`) has its gradient under its initial (`self.dw`) only when
backward writes it: an attribute of that name that backward never writes (a momentum velocity
the update keeps) is not compared as a gradient."""

from __future__ import annotations

from tests.userfiles import check, errors, write

LAYER = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            self.weights = 0.1 * np.random.randn(n_in, n_out)
            self.dw = np.zeros_like(self.weights)  # the update's velocity

        def forward(self, x):
            self.x = x
            return x @ self.weights

        def backward(self, dout):
            self.gw = self.x.T @ dout
            return dout @ self.weights.T

        def update(self, lr, mu=0.9):
            self.dw = mu * self.dw - lr * self.gw
            self.weights += self.dw
"""


def test_a_velocity_named_like_a_gradient_is_not_compared(tmp_path):
    report = check(write(tmp_path, "dense.py", LAYER))
    assert errors(report) == []  # `self.dw`, the velocity, would be a wrong gradient: `self.gw` is the one compared
    assert {(m["param"], m["verdict"]) for m in report["measurements"]} == {("x", "ok"), ("weights", "ok")}


def test_a_gradient_backward_writes_under_the_initial_is_compared(tmp_path):
    report = check(write(tmp_path, "dense.py", LAYER.replace("self.gw = self.x.T @ dout", "self.dw = self.x.T @ dout")))
    assert errors(report) == []
    assert {(m["param"], m["verdict"]) for m in report["measurements"]} == {("x", "ok"), ("weights", "ok")}
