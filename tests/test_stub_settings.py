"""A module beside the user's file that imports a library this machine lacks and sets one of its
options by item (`solverlib.solvers.options['show_progress'] = False`, as ML-From-Scratch does
with cvxopt) no longer stops the import: the setting goes to the stand-in, the library is
reported missing, and the layers are checked."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

SOLVER = """\
import numpy as np
import solverlib_not_installed as solverlib

solverlib.solvers.options['show_progress'] = False


def solve(P, q):
    return solverlib.solvers.qp(P, q)
"""

LAYER = """\
import numpy as np
from solver import solve


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)
"""


def test_an_option_set_on_a_missing_library_does_not_stop_the_import(tmp_path):
    solver = write(tmp_path, "solver.py", SOLVER)
    layer = write(tmp_path, "layer.py", LAYER)
    report = check(layer)
    assert errors(report) == []
    assert "Tanh" in {b["what"] for b in report["built"]}
    (missing,) = [f for f in report["findings"] if f["name"] == "missing-module"]
    assert (missing["file"], missing["line"]) == (str(solver), line_of(solver, "import solverlib_not_installed"))
