"""A recurrent cell called once per time step whose `backward` takes the upstream gradient and then
what forward was given and returned, again, as arguments (CMU 11-785's handout shape:
`forward(x, h)`, `backward(delta, h_t, h_prev_l, h_prev_t)` returning `(dx, dh)`), the parameters'
gradients added to attributes on the cell (`self.dW_x += ...`) over the steps of a sequence.

Which value each argument is comes from its name and from the one order backward runs on: an
argument named as forward's input is that input, one named like a state handed in (`h_before`,
`x_below`) is an input, one named like the new state (`h_new`, or a bare `h` once the previous state
is taken) is forward's output. The gradients added over the steps are started at zero for each
check, so the sum the cell keeps by design is not read as a backward that cannot be called twice; and
gradients kept as the batch's mean while the input's is the sum's are compared as the course means them.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

# by names: backward(grad, h_new, x, h_prev) beside forward(x, h_prev); gradients of the sum; a reset method
NAMED = '''\
import numpy as np


class ElmanCell:
    def __init__(self, n_in, n_hidden):
        rng = np.random.default_rng(3)
        self.W_x = rng.normal(0.0, 0.4, (n_hidden, n_in))
        self.W_h = rng.normal(0.0, 0.4, (n_hidden, n_hidden))
        self.bias = np.zeros(n_hidden)
        self.reset_grads()

    def reset_grads(self):
        self.dW_x = np.zeros_like(self.W_x)
        self.dW_h = np.zeros_like(self.W_h)
        self.dbias = np.zeros_like(self.bias)

    def forward(self, x, h_prev):
        return np.tanh(x @ self.W_x.T + h_prev @ self.W_h.T + self.bias)

    def backward(self, grad, h_new, x, h_prev):
        dz = grad * (1.0 - h_new ** 2)
        self.dW_x += dz.T @ x
        self.dW_h += dz.T @ h_prev
        self.dbias += dz.sum(axis=0)
        return dz @ self.W_x, dz @ self.W_h
'''

# the course's shape: backward's `h` is the new state although forward's `h` is the old one; the
# parameters' gradients are the batch's mean, no reset method
COURSE = '''\
import numpy as np


def squash(z):
    return np.tanh(z)


class StepCell(object):
    def __init__(self, input_size, hidden_size):
        self.Wi = np.random.randn(hidden_size, input_size) * 0.3
        self.Wr = np.random.randn(hidden_size, hidden_size) * 0.3
        self.bi = np.random.randn(hidden_size) * 0.1
        self.br = np.random.randn(hidden_size) * 0.1
        self.dWi = np.zeros((hidden_size, input_size))
        self.dWr = np.zeros((hidden_size, hidden_size))
        self.dbi = np.zeros(hidden_size)
        self.dbr = np.zeros(hidden_size)

    def forward(self, x, h):
        pre = x @ self.Wi.T + self.bi + h @ self.Wr.T + self.br
        return squash(pre)

    def backward(self, delta, h, x_below, h_before):
        n = delta.shape[0]
        dpre = delta * (1 - h * h)
        self.dWi += dpre.T @ x_below / n
        self.dWr += dpre.T @ h_before / n
        self.dbi += dpre.mean(axis=0)
        self.dbr += dpre.mean(axis=0)
        dx = dpre @ self.Wi
        dh = dpre @ self.Wr
        return dx, dh
'''

CASES = {
    "named": (NAMED, "ElmanCell", "self.dbias += dz.sum(axis=0)", "self.dbias += grad.sum(axis=0)", "bias", {"W_x", "W_h", "bias", "h_prev"}),
    "course": (COURSE, "StepCell", "self.dWr += dpre.T @ h_before / n", "self.dWr += dpre.T @ h / n", "Wr", {"Wi", "Wr", "bi", "br", "h"}),
}


@pytest.mark.parametrize("case", CASES)
def test_the_right_cell_is_checked_and_clean(tmp_path, case):
    text, cls, right, _, _, params = CASES[case]
    report = check(planted(tmp_path, "cell.py", text, right, right))
    assert report["findings"] == []
    checked = {m["param"] for m in report["measurements"] if m["layer"] == cls}
    assert params | {"x"} <= checked


@pytest.mark.parametrize("case", CASES)
def test_a_planted_gradient_mistake_is_found_at_its_line(tmp_path, case):
    text, cls, right, wrong, param, _ = CASES[case]
    path = planted(tmp_path, "cell.py", text, right, wrong)
    report = check(path)
    (found,) = [f for f in errors(report) if f["param"] == param]
    assert found["code"] == "BPD101"
    assert found["line"] == line_of(path, wrong)
    assert {f["param"] for f in errors(report)} == {param}
