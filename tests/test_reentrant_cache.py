"""A loss layer that edits its own cache in backward is right once per forward: a warning, not an error."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

LOSS_LAYER = """
import numpy as np


class SoftmaxCrossEntropy:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        return -np.log(self.y[np.arange(len(t)), t]).mean()

    def backward(self, dout=1):
        dx = self.y
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx * dout / len(self.t)


class Dense:
    def __init__(self, W):
        self.W = W
        self.dW = np.zeros_like(W)

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW += self.x.T @ dout
        return dout @ self.W.T
"""


def check(path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", timeout=180, cwd=path.parent,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def test_a_cache_edited_by_a_loss_layer_is_a_warning_and_accumulation_stays_an_error(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text(textwrap.dedent(LOSS_LAYER), encoding="utf-8")
    report = check(path)
    found = {(f["layer"], f["severity"]) for f in report["findings"] if f["name"] == "nonreentrant-backward"}
    assert ("SoftmaxCrossEntropy", "warning") in found
    assert ("Dense", "error") in found
    lines = path.read_text(encoding="utf-8").splitlines()
    (dense,) = [f for f in report["findings"] if f["name"] == "nonreentrant-backward" and f["layer"] == "Dense"]
    assert lines[dense["line"] - 1].strip() == "self.dW += self.x.T @ dout"
