"""A recurrent cell whose forward takes 1-D vectors and returns a 1-D state (`np.ravel(h)`) while its
backward takes the upstream gradient as the row (1, n) its program passes it (`delta = delta.T`
inside, `return dx.T, dh.T`): a backward that raises on the (n,) gradient and runs on the (1, n) row is
checked with the row, its gradients read back in the inputs' shapes, not reported as layer-raised.
A wrong gradient inside is still an error at its line; a backward that raises whatever the shape is
still layer-raised. Programs written for these tests, in two styles: a column-vector Elman cell
called once as the file's own test does, and a cell stepped over a short sequence, its gradient transposed inside (`g.T`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

COLUMNS = """\
import numpy as np


class ElmanCell:
    def __init__(self, n_in, n_hidden):
        self.Wx = np.random.randn(n_hidden, n_in) * 0.5
        self.Wh = np.random.randn(n_hidden, n_hidden) * 0.5
        self.dWx = np.zeros_like(self.Wx)
        self.dWh = np.zeros_like(self.Wh)

    def forward(self, x, h):
        self.x = x.reshape(-1, 1)
        self.h = h.reshape(-1, 1)
        self.out = np.tanh(self.Wx @ self.x + self.Wh @ self.h)
        return self.out.ravel()

    def backward(self, delta):
        delta = delta.T
        dz = delta * (1 - self.out ** 2)
        self.dWx = dz @ self.x.T
        self.dWh = dz @ self.h.T
        dx = self.Wx.T @ dz
        dh = self.Wh.T @ dz
        return dx.T, dh.T


np.random.seed(0)
cell = ElmanCell(4, 3)
x = np.random.randn(4)
h = np.random.randn(3)
out = cell.forward(x, h)
dx, dh = cell.backward(np.array([[0.5, -1.0, 0.25]]))
print(out, dx, dh)
"""

ROWS = """\
import numpy as np


class TanhCell:
    def __init__(self, n_in, n_state, seed=1):
        rng = np.random.default_rng(seed)
        self.U = rng.normal(0, 0.4, (n_state, n_in))
        self.V = rng.normal(0, 0.4, (n_state, n_state))
        self.dU = np.zeros((n_state, n_in))
        self.dV = np.zeros((n_state, n_state))

    def forward(self, x, s):
        self.x = x[:, None]
        self.s = s[:, None]
        self.y = np.tanh(self.U @ self.x + self.V @ self.s)
        return self.y[:, 0]

    def backward(self, g):
        dpre = g.T * (1 - self.y ** 2)
        self.dU = dpre @ self.x.T
        self.dV = dpre @ self.s.T
        return (self.U.T @ dpre).T, (self.V.T @ dpre).T


rng = np.random.default_rng(5)
cell = TanhCell(3, 2)
s = np.zeros(2)
for t in range(4):
    s = cell.forward(rng.normal(size=3), s)
g_x, g_s = cell.backward(np.ones((1, 2)))
"""


def _verdicts(report: dict) -> dict[tuple[str, str], str]:
    return {(m["layer"], m["param"]): m["verdict"] for m in report["measurements"]}


def test_a_column_cell_taking_its_gradient_as_a_row_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "cell.py", COLUMNS))
    assert errors(report) == []
    verdicts = _verdicts(report)
    assert verdicts[("ElmanCell", "x")] == verdicts[("ElmanCell", "Wx")] == verdicts[("ElmanCell", "Wh")] == "ok"


def test_a_wrong_derivative_in_a_row_gradient_cell_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "cell.py", COLUMNS, "dz = delta * (1 - self.out ** 2)", "dz = delta * (1 - self.out)")
    found = errors(check(path))
    assert found and {f["name"] for f in found} == {"gradient-mismatch"}
    assert line_of(path, "dz = delta * (1 - self.out)") in {f["line"] for f in found}


def test_a_backward_that_raises_on_the_row_too_is_still_reported_where_the_row_fails(tmp_path):
    path = planted(tmp_path, "cell.py", COLUMNS, "        dx = self.Wx.T @ dz\n", "        dx = self.Wx @ dz\n")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("layer-raised", line_of(path, "dx = self.Wx @ dz"))


def test_a_row_cell_stepped_over_a_sequence_is_clean(tmp_path):
    report = check(write(tmp_path, "rows.py", ROWS))
    assert errors(report) == []
    verdicts = _verdicts(report)
    assert verdicts[("TanhCell", "x")] == verdicts[("TanhCell", "U")] == verdicts[("TanhCell", "V")] == "ok"


def test_a_wrong_gradient_of_the_sequence_cell_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "rows.py", ROWS, "dpre = g.T * (1 - self.y ** 2)", "dpre = g.T * (1 - self.y) ** 2")
    found = errors(check(path))
    assert found and {f["name"] for f in found} == {"gradient-mismatch"}
    # named at the gradients computed from it (the line shared by them is not singled out here)
    assert {f["line"] for f in found} <= set(range(line_of(path, "dpre = g.T"), line_of(path, "return (self.U.T") + 1))
