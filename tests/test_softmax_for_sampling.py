"""A softmax that only ever turns one sample's scores into probabilities to sample from.

Text generation draws the next token from `softmax(logits / temperature)` with
`np.random.choice(len(probs), p=probs)`: the logits are one sample's (1-D), so a softmax
over the whole array (`e / e.sum()`) is right there. When every caller of the function
draws a sample from it, it is not probed on a batch; when a loss layer also calls it on a
batch of scores, the whole-batch normalisation is the bug and is reported at its line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GENERATOR = '''\
import numpy as np


def softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


class Linear:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ self.params[0].T


class SoftmaxCrossEntropy:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, scores, labels):
        shifted = scores - scores.max(axis=1, keepdims=True)
        self.probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        self.labels = labels
        n = scores.shape[0]
        return -np.log(self.probs[np.arange(n), labels] + 1e-12).mean()

    def backward(self, dout=1):
        n = self.probs.shape[0]
        d = self.probs.copy()
        d[np.arange(n), self.labels] -= 1
        return d * dout / n


def sample_next(layer, features, temperature=1.0):
    logits = layer.forward(features[None, :])[0]
    probs = softmax(logits / temperature)
    return int(np.random.choice(len(probs), p=probs))


def top_k_next(layer, features, k=3):
    logits = layer.forward(features[None, :])[0]
    best = np.argsort(logits)[-k:]
    probs = softmax(logits[best])
    return int(best[np.random.choice(k, p=probs)])
'''

PER_ROW_LOSS = """\
        shifted = scores - scores.max(axis=1, keepdims=True)
        self.probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
"""
SHARED_SOFTMAX_LOSS = """\
        self.probs = softmax(scores)
"""


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def test_a_softmax_only_used_to_sample_the_next_token_is_not_a_batch_softmax(tmp_path):
    path = tmp_path / "generate.py"
    path.write_text(GENERATOR, encoding="utf-8")
    report = check(path)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    assert any(b["what"] == "SoftmaxCrossEntropy" and not b["skipped"] for b in report["built"])


def test_the_same_softmax_used_by_a_loss_layer_on_a_batch_is_reported_at_its_line(tmp_path):
    assert PER_ROW_LOSS in GENERATOR
    path = tmp_path / "generate.py"
    path.write_text(GENERATOR.replace(PER_ROW_LOSS, SHARED_SOFTMAX_LOSS), encoding="utf-8")
    report = check(path)
    found = [f for f in report["findings"] if f["code"] == "BPD301"]
    assert found and found[0]["severity"] == "error", report["findings"]
    assert found[0]["line"] == GENERATOR.splitlines().index("    return e / e.sum()") + 1
