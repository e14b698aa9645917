"""A script in a plain sub-folder of its project's package, importing the package by name.

`mlproject/examples/train.py` (no `__init__.py` in `examples/`) writes
`from mlproject.layers import Dense`: run from the project's root that works, so the check
puts the folder above `mlproject` on the path and checks what the script builds.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, write

LAYERS = """
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""

TRAIN = """
import numpy as np
from mlproject.layers import Dense

rng = np.random.default_rng(0)
layer = Dense(4, 3, rng)
x = rng.standard_normal((8, 4))
for step in range(100):
    out = layer.forward(x)
    dx = layer.backward(out)
    layer.W -= 0.01 * layer.dW
    layer.b -= 0.01 * layer.db
"""


def project(tmp_path: Path, layers: str) -> Path:
    write(tmp_path, "mlproject/__init__.py", "")
    write(tmp_path, "mlproject/layers.py", layers)
    return write(tmp_path, "mlproject/examples/train.py", TRAIN)


def test_the_projects_package_is_importable_from_a_script_in_a_plain_sub_folder(tmp_path: Path) -> None:
    report = check(project(tmp_path, LAYERS))
    assert not [f for f in report["findings"] if f["code"] == "BPD003"]
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Dense"} >= {"W", "b", "x"}


def test_a_bug_in_the_imported_layer_is_found_at_its_line_in_the_package(tmp_path: Path) -> None:
    path = project(tmp_path, LAYERS.replace("return dout @ self.W.T", "return dout @ self.W.T * 2"))
    report = check(path)
    (error,) = [f for f in errors(report) if f["code"] == "BPD101"]
    assert error["line"] == line_of(tmp_path / "mlproject" / "layers.py", "return dout @ self.W.T")
    assert error["file"].endswith("layers.py")
