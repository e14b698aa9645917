"""Stateless gates (`backward(x, top_diff)`): recognised by signature, called with their input.

The twin files live in tests/cases/conventions (gates_ok.py, gates_bug.py) and run through
tests/test_conventions.py as well; here: which convention claims what, and what it does not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from backprop_doctor.conventions import layer_methods

CASES = Path(__file__).parent / "cases" / "conventions"


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def test_gates_are_checked_with_their_inputs_given_again(tmp_path):
    path = Path(shutil.copy(CASES / "gates_ok.py", tmp_path / "gates.py"))
    code, report = check(path)
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
    assert {"SigmoidGate", "TanhGate", "AddGate", "ScaleGate"} <= {m["layer"] for m in report["measurements"]}
    assert code == 0


def test_wrong_gate_derivative_is_reported_at_its_line(tmp_path):
    path = Path(shutil.copy(CASES / "gates_bug.py", tmp_path / "gates.py"))
    code, report = check(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["layer"], f["line"]) for f in errors] == [("SigmoidGate", line)], errors
    assert code == 1


class _Tanh:
    def forward(self, x):
        return x

    def backward(self, x, top_diff):
        return top_diff


class _Loss:  # NNFS: backward(dvalues, y_true) restarts from the prediction, not a gate
    def forward(self, y_pred, y_true):
        self.output = y_pred
        return y_pred

    def backward(self, dvalues, y_true):
        self.dinputs = dvalues


class _Renamed:  # backward(dout, x): the names do not follow forward's
    def forward(self, x):
        return x

    def backward(self, dout, x):
        return dout


def test_only_backwards_that_repeat_forwards_parameters_are_gates():
    assert layer_methods(_Tanh).convention == "gates"
    assert layer_methods(_Tanh).backward_gets_inputs
    assert layer_methods(_Loss).convention == "nnfs"
    assert not layer_methods(_Renamed) or layer_methods(_Renamed).convention != "gates"


MULTIPLY = """\
import numpy as np


class MultiplyGate:
    def forward(self, W, x):
        return np.dot(W, x)

    def backward(self, W, x, dz):
        dW = np.outer(dz, x)
        dx = np.dot(np.transpose(W), dz)
        return dW, dx
"""


def test_a_gate_multiplying_a_matrix_by_a_vector_is_checked_on_a_vector(tmp_path):
    """`np.dot(W, x)` runs on no pair of same-shaped inputs: the second input is also tried as a
    vector (and as columns) of the first one's width."""
    path = tmp_path / "gate.py"
    path.write_text(MULTIPLY, encoding="utf-8")
    code, report = check(path)
    assert code == 0 and {m["layer"] for m in report["measurements"]} == {"MultiplyGate"}
    path.write_text(MULTIPLY.replace("dx = np.dot(np.transpose(W), dz)", "dx = -np.dot(np.transpose(W), dz)"), encoding="utf-8")
    code, report = check(path)
    assert code == 1 and [f["layer"] for f in report["findings"] if f["severity"] == "error"] == ["MultiplyGate"]
