"""A constructor switch named like a parameter (`bias=True`) keeps its default when the layer is built.

`Linear(fan_in, fan_out, bias=True)` reads `bias` as a yes/no switch; building it with a bias
array in its place made the constructor raise ("truth value of an array is ambiguous") and the
layer went unchecked with a warning, on correct code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

LINEAR_CALLED = '''
import numpy as np

rng = np.random.default_rng(4)


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        self.bias = np.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.inp = x
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def backward(self, grad_out):
        self.grad_weight = self.inp.T @ grad_out
        if self.bias is not None:
            self.grad_bias = grad_out.sum(axis=0)
        return grad_out @ self.weight.T
'''

AFFINE_BOOK = '''
import numpy as np


class Affine:
    def __init__(self, n_in, n_out, bias=False):
        self.W = 0.1 * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)
        self.use_b = bias
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        out = x @ self.W
        if self.use_b:
            out = out + self.b
        return out

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0) if self.use_b else np.zeros_like(self.b)
        return dout @ self.W.T
'''


def _check(tmp_path, source):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["files"][0]


def _layer_checked(report, name):
    return [b for b in report["built"] if b["what"] == name and b["skipped"] is None]


def test_a_linear_layer_with_a_bias_switch_is_built_and_checked_clean(tmp_path):
    report = _check(tmp_path, LINEAR_CALLED)
    assert _layer_checked(report, "Linear"), report["built"]
    assert "bias=True" in _layer_checked(report, "Linear")[0]["how"]
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")], report["findings"]


def test_a_book_affine_with_a_bias_switch_off_by_default_is_built_and_checked_clean(tmp_path):
    report = _check(tmp_path, AFFINE_BOOK)
    assert _layer_checked(report, "Affine"), report["built"]
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")], report["findings"]


def test_a_wrong_weight_gradient_behind_a_bias_switch_is_found_at_its_line(tmp_path):
    wrong = LINEAR_CALLED.replace("self.grad_weight = self.inp.T @ grad_out", "self.grad_weight = self.inp.T @ grad_out * 0.5")
    report = _check(tmp_path, wrong)
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD101" and root["severity"] == "error"
    line = textwrap.dedent(wrong).splitlines().index("        self.grad_weight = self.inp.T @ grad_out * 0.5") + 1
    assert root["line"] == line
