"""A model whose backward(y_pred, y_true) computes its own loss (and takes its SGD step), or
whose backward() starts from what loss(x, t) computed, is checked the way it is called, never
called as backward(dout) and blamed for the TypeError that would raise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SOURCE = '''\
import numpy as np


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        {relu_backward}


class BinaryMLP:
    def __init__(self, n_in, n_hidden=8, lr=0.1):
        self.lr = lr
        self.W1 = np.random.randn(n_in, n_hidden) * 0.1
        self.b1 = np.zeros(n_hidden)
        self.W2 = np.random.randn(n_hidden, 1) * 0.1
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.h = np.maximum(0, X @ self.W1 + self.b1)
        return (1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))).ravel()

    def backward(self, y_pred, y_true):
        n = len(y_pred)
        loss = -np.mean(y_true * np.log(y_pred + 1e-9) + (1 - y_true) * np.log(1 - y_pred + 1e-9))
        d_out = (y_pred - y_true).reshape(-1, 1) / n
        d_h = (d_out @ self.W2.T) * (self.h > 0)
        self.W2 -= self.lr * self.h.T @ d_out
        self.b2 -= self.lr * d_out.sum(axis=0)
        self.W1 -= self.lr * self.X.T @ d_h
        self.b1 -= self.lr * d_h.sum(axis=0)
        return loss
'''

CORRECT = "return np.where(self.mask, 0.0, dout)"
BUGGY = "return np.where(self.mask, dout, 0.0)  # BUG: the mask is inverted"


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


def test_model_with_its_own_loss_in_backward_is_checked_through_its_update(tmp_path):
    path = tmp_path / "mlp.py"
    path.write_text(SOURCE.format(relu_backward=CORRECT))
    code, report = check(path)
    assert errors(report) == [], errors(report)
    model = next(b for b in report["built"] if b["what"] == "BinaryMLP")
    assert model["skipped"] is None and model["how"] == "model-backward convention", model
    assert "BinaryMLP" in {m["layer"] for m in report["measurements"]}
    assert "Relu" in {m["layer"] for m in report["measurements"]}
    assert code == 0


def test_layer_bug_beside_such_a_model_is_reported_at_its_line(tmp_path):
    path = tmp_path / "mlp.py"
    path.write_text(SOURCE.format(relu_backward=BUGGY))
    code, report = check(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    assert [(f["layer"], f["line"]) for f in errors(report)] == [("Relu", line)], errors(report)
    assert code == 1


HEAD = '''\
import numpy as np


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) * dout / self.t.shape[0]


class LinearHead:
    """A linear probe: predict with forward(x), train with loss(x, t) then backward()."""

    def __init__(self, n_in, n_classes):
        self.W = 0.01 * np.random.randn(n_in, n_classes)
        self.b = np.zeros(n_classes)
        self.last_layer = SoftmaxWithLoss()

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def loss(self, x, t):
        return self.last_layer.forward(self.forward(x), t)

    def backward(self):
        dlogits = self.last_layer.backward(1)
        self.dW = self.x.T @ dlogits
        self.db = dlogits.sum(axis=0)
'''


def test_head_whose_backward_starts_from_its_loss_is_checked(tmp_path):
    path = tmp_path / "head.py"
    path.write_text(HEAD)
    code, report = check(path)
    assert errors(report) == [], errors(report)
    head = next(b for b in report["built"] if b["what"] == "LinearHead")
    assert head["skipped"] is None and head["shapes"] == "x (5, 12), t (5, 6)", head
    assert {("LinearHead", "W"), ("LinearHead", "b")} <= {(m["layer"], m["param"]) for m in report["measurements"]}
    assert "SoftmaxWithLoss" in {m["layer"] for m in report["measurements"]}
