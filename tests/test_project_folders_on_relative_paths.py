"""An experiment script deep in a project (`experiments/run/train.py`) reaches the project's root
with `sys.path.append("../..")` and imports `models.net`, which itself imports `common.layers`
and a plotting library this machine lacks: every module of the project found through that
relative entry is the user's, so its own imports resolve from the project (and get stand-ins
for what is missing), and the network is checked instead of a load error at the import."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

LAYERS = """\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = 0.3 * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)
"""

MODEL = """\
import plotting_library_not_installed as plot
from common.layers import Dense, Tanh
"""

TRAIN = """\
import sys
sys.path.append("../..")
from models.net import Dense, Tanh

hidden = Dense(4, 5)
act = Tanh()
"""


def _project(tmp_path, layers=LAYERS):
    layers_file = write(tmp_path, "common/layers.py", layers)
    model = write(tmp_path, "models/net.py", MODEL)
    return layers_file, model, write(tmp_path, "experiments/run/train.py", TRAIN)


def test_a_script_reaching_its_project_with_a_relative_path_loads_its_modules_imports(tmp_path):
    _, model, train = _project(tmp_path)
    report = check(train)
    assert errors(report) == []
    assert {"Dense", "Tanh"} <= {b["what"] for b in report["built"] if b["shapes"]}
    (missing,) = [f for f in report["findings"] if f["name"] == "missing-module"]
    assert (missing["file"], missing["line"]) == (str(model), line_of(model, "import plotting_library_not_installed"))


def test_a_wrong_gradient_in_that_project_is_blamed_at_its_line(tmp_path):
    layers, _, train = _project(tmp_path, LAYERS.replace("return dout * (1 - self.out ** 2)", "return dout * (1 + self.out ** 2)"))
    wrong = errors(check(train))
    assert wrong and {(f["file"], f["line"]) for f in wrong} == {(str(layers), line_of(layers, "(1 + self.out ** 2)"))}
