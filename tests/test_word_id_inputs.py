"""Language models whose input is word ids: fed integer ids in range of the embedding table.

A DLFS-2 style model `forward(xs, ts)` looks rows up with its input (`W[xs]`), so the check
builds it small (`vocab_size=10000` shrinks, tied sizes stay equal), feeds ids of shape (N, T)
and next-word targets of the same shape, and never reports the IndexError that floats raise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MODEL = '''\
import numpy as np


class TimeEmbedding:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]

    def forward(self, xs):
        W, = self.params
        self.xs = xs
        return W[xs]

    def backward(self, dout):
        dW, = self.grads
        dW[...] = 0
        {embedding_backward}
        return None


class TimeAffine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, xs):
        W, b = self.params
        n, t, d = xs.shape
        self.xs = xs
        return (xs.reshape(n * t, d) @ W + b).reshape(n, t, -1)

    def backward(self, dout):
        W, b = self.params
        n, t, d = self.xs.shape
        flat = dout.reshape(n * t, -1)
        self.grads[0][...] = self.xs.reshape(n * t, d).T @ flat
        self.grads[1][...] = flat.sum(axis=0)
        return (flat @ W.T).reshape(n, t, d)


class TimeTanh:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, xs):
        self.out = np.tanh(xs)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


class TimeSoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, xs, ts):
        n, t, v = xs.shape
        scores = xs.reshape(n * t, v)
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        self.ys = e / e.sum(axis=1, keepdims=True)
        self.ts = ts.reshape(n * t)
        self.shape = (n, t, v)
        return -np.mean(np.log(self.ys[np.arange(n * t), self.ts] + 1e-7))

    def backward(self, dout=1):
        dx = self.ys.copy()
        dx[np.arange(len(self.ts)), self.ts] -= 1
        return (dx * dout / len(self.ts)).reshape(self.shape)


class TinyLanguageModel:
    def __init__(self, vocab_size=10000, wordvec_size=300, hidden_size=300):
        V, D, H = vocab_size, wordvec_size, hidden_size
        rn = np.random.randn
        self.layers = [
            TimeEmbedding(0.1 * rn(V, D)),
            TimeAffine(rn(D, H) / np.sqrt(D), np.zeros(H)),
            TimeTanh(),
            TimeAffine(rn(H, V) / np.sqrt(H), np.zeros(V)),
        ]
        self.loss_layer = TimeSoftmaxWithLoss()
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, xs, ts):
        for layer in self.layers:
            xs = layer.forward(xs)
        return self.loss_layer.forward(xs, ts)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
'''

CORRECT = "np.add.at(dW, self.xs, dout)"
BUGGY = "dW[self.xs] = dout  # BUG: a word seen twice keeps only its last gradient"


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


def test_language_model_is_fed_word_ids(tmp_path):
    path = tmp_path / "lm.py"
    path.write_text(MODEL.format(embedding_backward=CORRECT))
    code, report = check(path)
    assert errors(report) == [], [(f["code"], f["message"]) for f in errors(report)]
    built = next(b for b in report["built"] if b["what"] == "TinyLanguageModel")
    assert "vocab_size=7" in built["how"] and "wordvec_size=6" in built["how"] and "hidden_size=6" in built["how"], built
    measured = {(m["layer"], m["param"]) for m in report["measurements"]}
    assert ("TinyLanguageModel", "W") in measured or any(layer == "TinyLanguageModel" for layer, _ in measured), measured
    assert code == 0


def test_embedding_bug_in_a_language_model_is_reported_at_its_line(tmp_path):
    path = tmp_path / "lm.py"
    path.write_text(MODEL.format(embedding_backward=BUGGY))
    code, report = check(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    found = errors(report)
    assert line in {f["line"] for f in found}, [(f["code"], f["line"], f["message"]) for f in found]
    assert not [f for f in found if f["code"] == "BPD105"], found
    assert code == 1
