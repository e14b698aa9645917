"""A recurrent layer set up from one sequence's shape: `set_input_shape((steps, features))`, then
`initialize(optimizer)`, as the network that adds it calls them. It is given a sequence's shape
(not a flat width) and checked on sequences (N, T, D), its weights' gradients read off the step
its optimizer takes."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYER = """\
    import copy
    import numpy as np


    class ElmanRNN:
        def __init__(self, n_units, input_shape=None):
            self.n_units = n_units
            self.input_shape = input_shape

        def set_input_shape(self, shape):
            self.input_shape = shape

        def initialize(self, optimizer):
            _, features = self.input_shape
            self.Wx = 0.3 * np.random.randn(features, self.n_units)
            self.Wh = 0.3 * np.random.randn(self.n_units, self.n_units)
            self.Wx_opt, self.Wh_opt = copy.copy(optimizer), copy.copy(optimizer)

        def forward_pass(self, X, training=True):
            n, steps, _ = X.shape
            self.X = X
            self.H = np.zeros((n, steps + 1, self.n_units))
            for t in range(steps):
                self.H[:, t + 1] = np.tanh(X[:, t] @ self.Wx + self.H[:, t] @ self.Wh)
            return self.H[:, 1:]

        def backward_pass(self, grad):
            Wx, Wh = self.Wx, self.Wh
            dX = np.zeros_like(self.X)
            dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
            dh = np.zeros_like(self.H[:, 0])
            for t in reversed(range(self.X.shape[1])):
                dz = (grad[:, t] + dh) * (1 - self.H[:, t + 1] ** 2)
                dWx += self.X[:, t].T @ dz
                dWh += self.H[:, t].T @ dz
                dX[:, t] = dz @ Wx.T
                dh = dz @ Wh.T
            self.Wx = self.Wx_opt.update(self.Wx, dWx)
            self.Wh = self.Wh_opt.update(self.Wh, dWh)
            return dX
"""


def test_a_recurrent_layer_set_up_from_a_sequence_shape_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "rnn.py", LAYER))
    assert errors(report) == []
    assert {(m["param"], m["verdict"]) for m in report["measurements"]} == {("x", "ok"), ("Wx", "ok"), ("Wh", "ok")}
    (built,) = report["built"]
    assert built["how"].endswith("then set_input_shape((3, 6)) then initialize(UnitStep())")
    assert built["shapes"].startswith("x (5, 3, 6)")


def test_a_hidden_gradient_left_out_of_the_step_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "rnn.py", LAYER, "dz = (grad[:, t] + dh) * (1 - self.H[:, t + 1] ** 2)", "dz = grad[:, t] * (1 - self.H[:, t + 1] ** 2)")
    report = check(path)
    wrong = {f["param"]: f for f in errors(report) if f["name"] == "gradient-mismatch"}
    assert "Wh" in wrong
    assert wrong["Wh"]["line"] == line_of(path, "dWh += self.H[:, t].T @ dz")  # where its gradient is summed
