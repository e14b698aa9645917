"""An object whose methods keep everything on `self` and compute no loss:

    net.forward()     # stores self.hidden, self.prediction
    net.learn()       # error = self.target - self.prediction ... self.w_out += delta

The error `self.target - self.prediction` inside the method the loop calls implies the squared
error, written in the loop's names (`Σ(net.prediction − net.target)²`); the step is replayed
against it, and a wrong derivative is named at its line.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

OBJECT = '''\
import numpy as np


def squash(v):
    return 1.0 / (1.0 + np.exp(-v))


def squash_slope(s):
    return s * (1.0 - s)


class TinyNet:
    def __init__(self, inputs, target, width=5):
        rng = np.random.default_rng(4)
        self.inputs = inputs
        self.target = target
        self.w_in = rng.random((inputs.shape[1], width))
        self.w_out = rng.random((width, 1))

    def forward(self):
        self.hidden = squash(self.inputs @ self.w_in)
        self.prediction = squash(self.hidden @ self.w_out)

    def learn(self):
        signal = 2 * (self.target - self.prediction) * squash_slope(self.prediction)
        grad_out = self.hidden.T @ signal
        grad_in = self.inputs.T @ ((signal @ self.w_out.T) * squash_slope(self.hidden))
        self.w_in += grad_in
        self.w_out += grad_out


if __name__ == "__main__":
    data = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 0]], dtype=float)
    labels = np.array([[0], [1], [1], [0], [0]], dtype=float)
    net = TinyNet(data, labels)
    for epoch in range(2000):
        net.forward()
        net.learn()
    print(net.prediction)
'''


def test_the_correct_object_is_replayed_against_the_squared_error_its_error_implies(tmp_path):
    report = check(write(tmp_path, "tiny_net.py", OBJECT))
    assert errors(report) == []
    result = replayed(report)
    assert result["loss"] == "Σ(net.prediction − net.target)²"
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("net.w_in", False), ("net.w_out", False)]


def test_a_missing_hidden_slope_is_reported_for_the_weight_it_feeds(tmp_path):
    path = planted(tmp_path, "tiny_net.py", OBJECT, "((signal @ self.w_out.T) * squash_slope(self.hidden))", "(signal @ self.w_out.T)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"]) == ("BPD108", "net.w_in")
    assert finding["line"] == line_of(path, "grad_in = self.inputs.T")
