"""Classes whose constructors take one-letter sizes are built and checked.

cs231n and the code that grew out of it name sizes by one capital letter: `TwoLayerNet(D, H, C)`
for the input dimension, the hidden width and the classes, a layer `Dense(N, M)` for its inputs
and outputs, `D_in`/`D_out` beside `H`. The builder guesses constructor arguments by name and
knew no such name, so a file that defines such a class and never builds it was "nothing to
check" (`cannot guess a value for the constructor argument D`). Now an upper-case letter of
`D H C K V E M N T F L` (optionally with `_in`, `_out` or a digit) is an integer size, and the
activation objects' guess of a constructor's arguments uses integer sizes for size names
(`n_out`, `vocab_size`) instead of 0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_doctor import build

NET = '''\
import numpy as np


class TwoLayerNet:
    def __init__(self, D, H, C, std=1e-2):
        self.params = {
            "W1": std * np.random.randn(D, H),
            "b1": np.zeros(H),
            "W2": std * np.random.randn(H, C),
            "b2": np.zeros(C),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        N = X.shape[0]
        hidden = np.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {}
        grads["W2"] = hidden.T @ dscores + reg * W2
        grads["b2"] = dscores.sum(axis=0)
        dhidden = dscores @ W2.T
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T @ dhidden + reg * W1
        grads["b1"] = dhidden.sum(axis=0)
        return loss, grads
'''

LAYER = '''\
import numpy as np


class Dense:
    def __init__(self, N, M):
        self.W = np.random.randn(N, M) / np.sqrt(N)
        self.b = np.zeros(M)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Block:
    def __init__(self, D_in, H1, D_out):
        self.W1 = np.random.randn(D_in, H1) * 0.5
        self.W2 = np.random.randn(H1, D_out) * 0.5

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1)
        return self.h @ self.W2

    def backward(self, dout):
        self.dW2 = self.h.T @ dout
        dh = (dout @ self.W2.T) * (1 - self.h ** 2)
        self.dW1 = self.x.T @ dh
        return dh @ self.W1.T
'''

SOLVER_MODEL = '''\
import numpy as np


class Classifier:
    def __init__(self, D, C, H, lam=1e-3):
        self.lam = lam
        self.model = dict(W1=np.random.randn(D, H) / np.sqrt(D), b1=np.zeros(H), W2=np.random.randn(H, C) / np.sqrt(H), b2=np.zeros(C))

    def forward(self, X, train=False):
        h = np.maximum(0, X @ self.model["W1"] + self.model["b1"])
        return h @ self.model["W2"] + self.model["b2"], (X, h)

    def backward(self, y_pred, y_train, cache):
        X, h = cache
        p = np.exp(y_pred - y_pred.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(y_train)), y_train] -= 1
        dy = p / len(y_train)
        dh = dy @ self.model["W2"].T
        dh[h <= 0] = 0
        return dict(W1=X.T @ dh + self.lam * self.model["W1"], b1=dh.sum(axis=0), W2=h.T @ dy + self.lam * self.model["W2"], b2=dy.sum(axis=0))
'''

CORRECT = {"net": NET, "layer": LAYER}

PLANTED = {
    # the output bias gradient doubled
    "net_db2": (NET, 'grads["b2"] = dscores.sum(axis=0)', 'grads["b2"] = dscores.sum(axis=0) * 2', "TwoLayerNet"),
    "layer_dW": (LAYER, "self.dW = self.x.T @ dout", "self.dW = self.x.T @ dout / len(dout)", "Dense"),
    "block_tanh": (LAYER, "(1 - self.h ** 2)", "(1 - self.h)", "Block"),
}


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


def test_one_letter_names_are_integer_sizes():
    assert build.integer_size("D") == 12 and build.integer_size("H") == 8 and build.integer_size("H2") == 8
    assert build.integer_size("C") == build.integer_size("D_out") == build.CLASSES
    assert build.integer_size("D_in") == 12
    assert build.integer_size("n_out") == build.CLASSES and build.integer_size("vocab_size") == 6
    # lower-case letters and rates are no sizes
    assert build.integer_size("f") is None and build.integer_size("p") is None and build.integer_size("alpha") is None


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_classes_sized_by_letters_are_built_and_clean(tmp_path, case):
    path = tmp_path / f"{case}.py"
    path.write_text(CORRECT[case], encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    assert not any(f["code"] in ("BPD007", "BPD008") for f in report["findings"]), report["findings"]
    names = ("TwoLayerNet",) if case == "net" else ("Dense", "Block")
    for name in names:
        assert any(m["layer"].split(".")[0] == name and m["verdict"] == "ok" for m in report["measurements"]), report["measurements"]


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_wrong_gradient_is_reported(tmp_path, case):
    program, right, wrong, layer = PLANTED[case]
    assert right in program
    path = tmp_path / f"{case}.py"
    path.write_text(program.replace(right, wrong), encoding="utf-8")
    report = check(path)
    assert any(f["layer"] and f["layer"].split(".")[0] == layer for f in errors(report)), report["findings"]


def test_a_model_whose_backward_takes_its_cache_and_returns_gradients_alone_is_named_not_an_error(tmp_path):
    """`backward(y_pred, y_train, cache)` handing its gradients to a solver (the loss computed elsewhere):
    built from its letters it would be called as a layer and fail; it is named as not checked yet."""
    path = tmp_path / "solver_model.py"
    path.write_text(SOLVER_MODEL, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    skipped = [b["skipped"] for b in report["built"] if b["what"] == "Classifier"]
    assert skipped and "forward's cache" in (skipped[0] or ""), report["built"]

