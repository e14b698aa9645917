"""Layers written for one sample at a time, as a column vector: no batch to couple.

A softmax layer whose forward normalises its whole input (`tmp / np.sum(tmp)`) and whose
backward builds the Jacobian of that one sample (`np.identity(n)`) is fed one column at a
time by its program; the check builds it on a column, and the batch checks leave it alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAYERS = '''\
import numpy as np


class Layer:
    def __init__(self):
        self.input = None
        self.output = None

    def forward(self, input):
        raise NotImplementedError

    def backward(self, output_gradient, learning_rate):
        raise NotImplementedError


class Softmax(Layer):
    def forward(self, input):
        shifted = np.exp(input - np.max(input))
        self.output = shifted / np.sum(shifted)
        return self.output

    def backward(self, output_gradient, learning_rate):
        n = np.size(self.output)
        jacobian = self.output * (np.identity(n) - self.output.T)
        {ret}
'''

CORRECT = "return np.dot(jacobian, output_gradient)"
BUGGY = "return np.dot(jacobian.T, self.output)  # BUG: the output where the upstream gradient belongs"


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def test_one_column_softmax_is_checked_and_not_called_batch_coupled(tmp_path):
    path = tmp_path / "activations.py"
    path.write_text(LAYERS.format(ret=CORRECT))
    code, report = check(path)
    assert errors(report) == [], [(f["code"], f["message"]) for f in errors(report)]
    built = next(b for b in report["built"] if b["what"] == "Softmax")
    assert "(6, 1)" in built["shapes"], built
    assert "Softmax" in {m["layer"] for m in report["measurements"]}
    assert code == 0


def test_wrong_backward_of_a_one_column_softmax_is_reported_at_its_line(tmp_path):
    path = tmp_path / "activations.py"
    path.write_text(LAYERS.format(ret=BUGGY))
    code, report = check(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    found = errors(report)
    assert line in {f["line"] for f in found}, [(f["code"], f["line"], f["message"]) for f in found]
    assert not [f for f in found if f["code"] == "BPD302"], found
    assert code == 1
