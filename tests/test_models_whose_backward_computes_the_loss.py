"""Whole models whose backward computes their own loss are checked the way they are called.

`backward(y_pred, y_true)` returning the loss and taking its SGD step with `self.lr`
(gradients read off one step, then undone), and a linear probe trained with `loss(x, t)`
then `backward()` that leaves `self.dW`, `self.db`. The correct models get no error; a
missing division by the batch size is reported at the line of each gradient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MODELS = '''\
import numpy as np


class PairScorer:
    """Scores candidate pairs with a small MLP; trained with 0/1 pseudo-labels."""

    def __init__(self, input_dim, hidden_dim=16, lr=0.05):
        self.lr = lr
        self.W1 = np.random.randn(input_dim, hidden_dim) * np.sqrt(2.0 / input_dim)
        self.b1 = np.zeros(hidden_dim)
        self.W2 = np.random.randn(hidden_dim, 1) * np.sqrt(2.0 / hidden_dim)
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.h = np.maximum(0, X @ self.W1 + self.b1)
        out = 1.0 / (1.0 + np.exp(-(self.h @ self.W2 + self.b2)))
        return out.ravel()

    def backward(self, y_pred, y_true):
        n = len(y_pred)
        loss = -np.mean(y_true * np.log(y_pred + 1e-9) + (1 - y_true) * np.log(1 - y_pred + 1e-9))
        d_out = (y_pred - y_true).reshape(-1, 1) / n
        dW2 = self.h.T @ d_out
        db2 = d_out.sum(axis=0)
        d_h = d_out @ self.W2.T
        d_h[self.h <= 0] = 0
        dW1 = self.X.T @ d_h
        db1 = d_h.sum(axis=0)
        self.W1 -= self.lr * dW1
        self.b1 -= self.lr * db1
        self.W2 -= self.lr * dW2
        self.b2 -= self.lr * db2
        return float(loss)


class LinearProbe:
    """A linear classifier on frozen features: loss(x, t) then backward()."""

    def __init__(self, in_dim, num_classes=4):
        self.W = np.sqrt(2.0 / in_dim) * np.random.randn(in_dim, num_classes)
        self.b = np.zeros(num_classes)
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def loss(self, x, t):
        logits = self.forward(x)
        shifted = logits - logits.max(axis=1, keepdims=True)
        self.p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        self.t = t
        return -np.mean(np.sum(t * np.log(self.p + 1e-12), axis=1))

    def backward(self):
        dlogits = (self.p - self.t) / len(self.x)
        self.dW = self.x.T @ dlogits
        self.db = dlogits.sum(axis=0)
'''

SCORER_RIGHT = "        d_out = (y_pred - y_true).reshape(-1, 1) / n\n"
SCORER_BUG = "        d_out = (y_pred - y_true).reshape(-1, 1)  # BUG: the loss is a mean\n"
PROBE_RIGHT = "        self.db = dlogits.sum(axis=0)\n"
PROBE_BUG = "        self.db = dlogits.mean(axis=0)  # BUG: dlogits is already divided by N\n"


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def test_both_models_are_checked_and_correct(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    built = {b["what"]: b for b in report["built"]}
    assert built["PairScorer"]["skipped"] is None and built["PairScorer"]["shapes"] == "x (5, 12), t (5,)"
    assert built["LinearProbe"]["skipped"] is None and built["LinearProbe"]["shapes"] == "x (5, 12), t (5, 4)"  # `in_dim` is an input size (build._value_for)
    compared = {(m["layer"], m["param"]) for m in report["measurements"]}
    assert {("PairScorer", "W1"), ("PairScorer", "b2"), ("LinearProbe", "W"), ("LinearProbe", "b")} <= compared


def test_a_scorer_whose_update_forgets_the_mean_is_reported_at_each_gradient(tmp_path):
    assert SCORER_RIGHT in MODELS
    text = MODELS.replace(SCORER_RIGHT, SCORER_BUG)
    path = tmp_path / "models.py"
    path.write_text(text, encoding="utf-8")
    report = check(path)
    lines = text.splitlines()
    found = {f["param"]: f for f in errors(report) if f["code"] == "BPD101" and f["layer"] == "PairScorer"}
    assert set(found) == {"W1", "b1", "W2", "b2"}, report["findings"]
    assert found["W1"]["line"] == lines.index("        dW1 = self.X.T @ d_h") + 1
    assert "5 × too large" in found["W2"]["message"]
    assert not [f for f in errors(report) if f["layer"] == "LinearProbe"]


def test_a_probe_that_divides_its_bias_gradient_twice_is_reported(tmp_path):
    assert PROBE_RIGHT in MODELS
    text = MODELS.replace(PROBE_RIGHT, PROBE_BUG)
    path = tmp_path / "models.py"
    path.write_text(text, encoding="utf-8")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD101"]
    assert [(f["layer"], f["param"]) for f in found] == [("LinearProbe", "b")], report["findings"]
    assert found[0]["line"] == text.splitlines().index(PROBE_BUG.rstrip("\n")) + 1
