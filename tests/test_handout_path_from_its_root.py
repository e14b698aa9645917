"""A course handout's script in a folder of its own (`hw2/run.py`) that reaches the handout's layers
with a relative `sys.path` entry written for a run from the handout's root (`sys.path.append('mytorch')`,
`sys.path.insert(0, 'lib')`): the layers are found in the folder above that holds them, not replaced by
stand-ins, and checked where the script uses them. Correct layers are clean; a planted wrong gradient
is named at its line in the layer's file."""

import os

import pytest

from tests.userfiles import check, line_of, planted, write

LINEAR = """
    import numpy as np


    class Linear:
        def __init__(self, in_features, out_features):
            self.W = np.random.randn(out_features, in_features) * 0.3
            self.b = np.random.randn(out_features) * 0.1

        def forward(self, A):
            self.A = A
            return A @ self.W.T + self.b

        def backward(self, dLdZ):
            self.dLdW = dLdZ.T @ self.A
            self.dLdb = dLdZ.sum(axis=0)
            return dLdZ @ self.W
"""

APPENDED = """
    import sys

    sys.path.append('mytorch')

    import numpy as np
    from linear import Linear


    def run():
        layer = Linear(4, 3)
        return layer.forward(np.ones((2, 4)))
"""

INSERTED = """
    import sys
    sys.path.insert(0, 'lib')
    from linear import *


    class Head:
        def __init__(self):
            self.fc = Linear(6, 2)
"""

CASES = [
    pytest.param(APPENDED, "mytorch", id="appended"),
    pytest.param(INSERTED, "lib", id="inserted"),
]


def _handout(tmp_path, script, folder, layer=LINEAR):
    write(tmp_path, os.path.join("handout", folder, "linear.py"), layer)
    return write(tmp_path, os.path.join("handout", "hw2", "run.py"), script)


@pytest.mark.parametrize(("script", "folder"), CASES)
def test_the_handouts_layer_is_found_from_its_root_and_checked_clean(tmp_path, script, folder):
    report = check(_handout(tmp_path, script, folder))
    assert not [f for f in report["findings"] if f["code"] in ("BPD003", "BPD007")], report["findings"]
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Linear" and m["verdict"] == "ok"} == {"x", "W", "b"}


@pytest.mark.parametrize(("script", "folder"), CASES)
def test_a_wrong_gradient_of_the_handouts_layer_is_named_at_its_line(tmp_path, script, folder):
    wrong = "self.dLdb = dLdZ.sum(axis=0) / len(dLdZ) ** 2"
    layer = planted(tmp_path, os.path.join("handout", folder, "linear.py"), LINEAR, "self.dLdb = dLdZ.sum(axis=0)", wrong)
    path = write(tmp_path, os.path.join("handout", "hw2", "run.py"), script)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(layer, wrong), root
    assert os.path.basename(root["file"]) == "linear.py", root
