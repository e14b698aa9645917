"""A chapter script two or more folders below its project's root (`sample/second/ch01/net.py`)
imports the root's `common.layers`, which its own `sys.path.append("..")` (or nothing at all,
the project being installed with `pip install -e .`) does not reach: the package is found in
the nearest folder above the file (up to four levels) that holds it as a folder of .py files,
instead of a stand-in that leaves nothing to check. A name no folder above holds still gets a
stand-in, and a package further up than that is not looked for."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

LAYERS = """\
import numpy as np
from common.functions import tanh


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
        self.out = tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)
"""

FUNCTIONS = """\
import numpy as np


def tanh(x):
    return np.tanh(x)
"""

SCRIPT = """\
import sys
sys.path.append("..")
import numpy as np
from common.layers import Dense, Tanh


class TwoLayerNet:
    def __init__(self, n_in=4, hidden=5, n_out=3):
        self.layers = [Dense(n_in, hidden), Tanh(), Dense(hidden, n_out)]
        self.params = [p for layer in self.layers[::2] for p in (layer.W, layer.b)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
"""


def _project(tmp_path, script_folder, layers=LAYERS):
    layers_file = write(tmp_path, "common/layers.py", layers)
    write(tmp_path, "common/functions.py", FUNCTIONS)
    return layers_file, write(tmp_path, f"{script_folder}/two_layer_net.py", SCRIPT)


def _built(report):
    return {b["what"] for b in report["built"] if b["shapes"]}


def test_the_projects_package_three_folders_up_is_loaded(tmp_path):
    _, script = _project(tmp_path, "sample/second/ch01")
    report = check(script)
    assert [f["code"] for f in report["findings"]] == []
    assert {"Dense", "Tanh"} <= _built(report)


def test_a_wrong_gradient_in_that_package_is_blamed_at_its_line(tmp_path):
    layers, script = _project(tmp_path, "sample/second/ch01", LAYERS.replace("(1 - self.out ** 2)", "(1 + self.out ** 2)"))
    root, network = errors(check(script))
    assert (root["code"], root["file"], root["line"], root["caused_by"]) == ("BPD101", str(layers), line_of(layers, "(1 + self.out ** 2)"), None)
    assert (network["code"], network["layer"], network["caused_by"]) == ("BPD101", "TwoLayerNet", root["key"])


def test_a_package_further_up_than_four_folders_is_a_stand_in(tmp_path):
    _, script = _project(tmp_path, "a/b/c/d/e")
    report = check(script)
    missing = [f for f in report["findings"] if f["code"] == "BPD003"]
    assert [(f["line"], f["message"].split("`")[1]) for f in missing] == [(line_of(script, "from common.layers"), "common.layers")]


def test_a_package_that_is_a_folder_without_python_files_is_not_taken(tmp_path):
    write(tmp_path, "common/readme.txt", "notes")
    script = write(tmp_path, "sample/second/ch01/two_layer_net.py", SCRIPT)
    report = check(script)
    assert [f["code"] for f in report["findings"] if f["code"] == "BPD003"] == ["BPD003"]
