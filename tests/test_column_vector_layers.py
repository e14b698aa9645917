"""Layers written for one sample at a time as a column vector, weights on the left.

`np.dot(self.weights, self.input) + self.bias` with a bias of shape (out, 1), and a
backward that updates `self.bias -= learning_rate * output_gradient`: a batch of columns
runs forward but not backward, so the layer is checked on one column (n_in, 1), never
reported as raising on a shape the tool made up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DENSE = '''\
import numpy as np


class Layer:
    def __init__(self):
        self.input = None
        self.output = None

    def forward(self, input):
        raise NotImplementedError

    def backward(self, output_gradient, learning_rate):
        raise NotImplementedError


class Dense(Layer):
    def __init__(self, input_size, output_size):
        self.weights = np.random.randn(output_size, input_size)
        self.bias = np.random.randn(output_size, 1)

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return input_gradient
'''

IN_ORDER = """\
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
"""
UPDATED_FIRST = """\
        self.weights -= learning_rate * weights_gradient
        input_gradient = np.dot(self.weights.T, output_gradient)  # BUG: uses the updated weights
"""


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def test_a_column_vector_dense_layer_is_checked_on_one_column(tmp_path):
    path = tmp_path / "dense.py"
    path.write_text(DENSE, encoding="utf-8")
    report = check(path)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    dense = next(b for b in report["built"] if b["what"] == "Dense")
    assert dense["skipped"] is None and dense["shapes"] == "x (12, 1)"


def test_an_input_gradient_taken_after_the_update_is_reported_at_its_line(tmp_path):
    assert IN_ORDER in DENSE
    buggy = DENSE.replace(IN_ORDER, UPDATED_FIRST)
    path = tmp_path / "dense.py"
    path.write_text(buggy, encoding="utf-8")
    report = check(path)
    found = [f for f in report["findings"] if f["code"] == "BPD101"]
    assert found and "`Dense`" in found[0]["message"], report["findings"]
    assert found[0]["line"] == buggy.splitlines().index(UPDATED_FIRST.splitlines()[1]) + 1
    assert not [f for f in report["findings"] if f["code"] == "BPD105"]
