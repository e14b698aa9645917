"""A package holding a module of its own name (`mynet/mynet.py`, as in `neural_network/
neural_network.py`) and a file in a sub-package that imports the package by name
(`mynet/train/net.py` doing `import mynet.functions`): `import mynet` finds the package, as it
does when the project runs from its root, not `mynet.py` in the folder above the file, so the
file loads and its layers are checked."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

FUNCTIONS = """\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
"""

OWN_NAME = """\
import mynet.functions as functions


class Model:
    def __init__(self, layers):
        self.layers = layers
"""

LAYER = """\
import numpy as np

import mynet
import mynet.functions as functions


class Affine:
    def __init__(self, n_in=4, n_out=3):
        self.W = 0.1 * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Sigmoid:
    def forward(self, x):
        self.out = functions.sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)
"""


def _project(tmp_path, correct="", wrong=""):
    write(tmp_path, "mynet/__init__.py", "")
    write(tmp_path, "mynet/mynet.py", OWN_NAME)
    write(tmp_path, "mynet/functions/__init__.py", FUNCTIONS)
    write(tmp_path, "mynet/train/__init__.py", "")
    return planted(tmp_path, "mynet/train/layers.py", LAYER, correct, wrong)


def test_a_file_importing_its_package_past_a_module_of_the_same_name_loads_and_is_checked(tmp_path):
    report = check(_project(tmp_path))
    assert errors(report) == []
    assert {"Affine", "Sigmoid"} <= {b["what"] for b in report["built"]}


def test_a_wrong_gradient_in_that_file_is_blamed_at_its_line(tmp_path):
    layers = _project(tmp_path, "return dout * self.out * (1 - self.out)", "return dout * self.out * (1 + self.out)")
    (wrong,) = errors(check(layers))
    assert (wrong["name"], wrong["line"]) == ("gradient-mismatch", line_of(layers, "(1 + self.out)"))
