"""Files that reach their layers through `sys.path.append("../..")`, or through a package that is
missing: the network loads (or is left out) instead of stopping the tool.

`sys.path.append("../..")` is written for a script run from its own folder; the tool runs the
program elsewhere, so the entry is read from the file's folder. A network that holds stand-ins
for a missing package's layers is copied like any other object (a copy of a stand-in used to
lose its name and look it up through itself forever).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

LAYERS = '''\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]
'''

NETWORK = '''\
import sys
sys.path.append("../..")
import numpy as np
from collections import OrderedDict
from common.layers import Affine, SoftmaxWithLoss


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * {derivative}


class SmallNet:
    def __init__(self, input_size=6, hidden_size=5, output_size=3):
        self.params = {{
            "W1": 0.5 * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": 0.5 * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }}
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Tanh1"] = Tanh()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {{
            "W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db,
        }}
'''

CORRECT = "(1.0 - self.out ** 2)"
BUGGY = "(1.0 - self.out)  # BUG: tanh' is 1 - tanh**2"


def check(path: Path, cwd: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=cwd,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def project(tmp_path: Path, derivative: str) -> Path:
    """root/common/layers.py and root/app/models/net.py, as in the book's repositories."""
    (tmp_path / "root" / "common").mkdir(parents=True)
    (tmp_path / "root" / "common" / "layers.py").write_text(LAYERS)
    models = tmp_path / "root" / "app" / "models"
    models.mkdir(parents=True)
    path = models / "net.py"
    path.write_text(NETWORK.format(derivative=derivative))
    (tmp_path / "elsewhere").mkdir()
    return path


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def test_relative_sys_path_entry_is_read_from_the_files_folder(tmp_path):
    path = project(tmp_path, CORRECT)
    code, report = check(path, tmp_path / "elsewhere")
    assert errors(report) == [], [(f["code"], f["message"]) for f in errors(report)]
    assert not [f for f in report["findings"] if f["code"] == "BPD003"]  # common.layers was not stubbed
    checked = {m["layer"] for m in report["measurements"]}
    assert {"SmallNet", "Affine1", "Tanh1"} <= checked, checked
    assert code == 0


def test_bug_next_to_imported_layers_is_reported_at_its_line(tmp_path):
    path = project(tmp_path, BUGGY)
    code, report = check(path, tmp_path / "elsewhere")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    found = errors(report)
    assert found and line in {f["line"] for f in found}, [(f["code"], f["line"], f["message"]) for f in found]
    assert {f["code"] for f in found} <= {"BPD101", "BPD601"}, found
    assert code == 1


def test_network_holding_stand_ins_of_a_missing_package_is_not_a_crash(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(
        textwrap.dedent(
            '''\
            import numpy as np
            from nowhere_to_be_found.layers import Affine, Relu


            class Net:
                def __init__(self, input_size=4, output_size=3):
                    self.W = np.random.randn(input_size, output_size)
                    self.fc = Affine(self.W, np.zeros(output_size))
                    self.act = Relu()

                def forward(self, x):
                    return self.act.forward(self.fc.forward(x))

                def backward(self, dout):
                    return self.fc.backward(self.act.backward(dout))
            '''
        )
    )
    code, report = check(path, tmp_path)
    codes = {f["code"] for f in report["findings"]}
    assert "BPD006" not in codes, report["findings"]
    assert "BPD003" in codes  # the missing package is named
    assert not any("RecursionError" in f["message"] for f in report["findings"])
