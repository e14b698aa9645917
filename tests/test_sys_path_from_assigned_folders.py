"""A file that computes its project's folder into a variable and puts that on `sys.path`
(`ROOT_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))`, then
`sys.path.append(ROOT_DIR)`, or `sys.path.append(os.path.join(BASE, "common"))`) loads as
`python3 file.py` runs it: the loader runs the plain assignments the sys.path statement
reads, in order, and nothing else of the program (a print between them stays out)."""

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
"""

ROOT_SCRIPT = """\
import sys, os

ROOT_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
print("ROOT_DIR =", ROOT_DIR)
sys.path.append(ROOT_DIR)

import numpy as np
from common.layers import Dense


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


hidden = Dense(4, 5)
act = Tanh()
"""

BASE_SCRIPT = """\
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.dirname(HERE)
sys.path.append(os.path.join(BASE, "common"))

from layers import Dense

hidden = Dense(4, 5)
"""


def test_a_folder_computed_into_a_variable_is_put_on_the_path(tmp_path):
    write(tmp_path, "common/__init__.py", "")
    write(tmp_path, "common/layers.py", LAYERS)
    script = write(tmp_path, "ch04/net.py", ROOT_SCRIPT)
    report = check(script)
    assert [f["code"] for f in report["findings"]] == []
    assert {"Dense", "Tanh"} <= {b["what"] for b in report["built"] if b["shapes"]}


def test_a_folder_joined_from_two_assignments_is_put_on_the_path(tmp_path):
    layers = write(tmp_path, "common/layers.py", LAYERS.replace("self.dW = self.x.T @ dout", "self.dW = -self.x.T @ dout"))
    script = write(tmp_path, "ch05/net.py", BASE_SCRIPT)
    wrong = errors(check(script))
    assert {(f["code"], f["file"], f["line"]) for f in wrong} == {("BPD101", str(layers), line_of(layers, "self.dW = -self.x.T @ dout"))}


def test_the_rest_of_the_program_does_not_run_at_load_time(tmp_path):
    write(tmp_path, "common/layers.py", LAYERS)
    script = write(tmp_path, "ch04/net.py", ROOT_SCRIPT.replace('print("ROOT_DIR =", ROOT_DIR)', 'raise SystemExit("the program ran")'))
    report = check(script)
    (stopped,) = report["findings"]  # the program's own run stops there; the load of its definitions does not
    assert (stopped["code"], stopped["line"]) == ("BPD021", line_of(script, "raise SystemExit"))
    assert {"Dense", "Tanh"} <= {b["what"] for b in report["built"] if b["shapes"]}


def test_a_path_variable_from_a_statement_left_out_does_not_stop_the_load(tmp_path):
    write(tmp_path, "common/layers.py", LAYERS)
    loop = 'for ROOT_DIR in [os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))]:\n    pass'
    script = write(tmp_path, "ch04/net.py", ROOT_SCRIPT.replace('ROOT_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))', loop))
    report = check(script)
    assert [f["code"] for f in report["findings"]] == []
    assert {"Dense", "Tanh"} <= {b["what"] for b in report["built"] if b["shapes"]}
