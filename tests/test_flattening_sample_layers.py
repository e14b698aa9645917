"""Per-sample layers whose forward flattens the whole input (`input.flatten() @ self.weights`) and whose
`backprop(d_out, learn_rate)` steps the weights itself and returns the input gradient in the input's shape:
built on one feature map of as many numbers as the weight has rows (no batch axis: a batch would be
flattened into one sample), and a backward written for an upstream gradient with one nonzero entry
(it skips the zero entries and returns at the first other, as under a cross-entropy of its own softmax
output) is sent such a gradient (`static.one_entry`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ONE_ENTRY_SOFTMAX = '''\
import numpy as np


class ProbLayer:
    """Scores a feature map into class probabilities, one image at a time."""

    def __init__(self, n_features, n_classes):
        self.W = np.random.randn(n_features, n_classes) * 0.1
        self.c = np.zeros(n_classes)

    def forward(self, fmap):
        self.shape_in = fmap.shape
        self.flat = fmap.flatten()
        self.z = self.flat @ self.W + self.c
        e = np.exp(self.z - self.z.max())
        return e / e.sum()

    def backprop(self, grad_out, lr):
        for k, g in enumerate(grad_out):
            if g == 0:
                continue
            e = np.exp(self.z - self.z.max())
            p = e / e.sum()
            dp_dz = -p[k] * p
            dp_dz[k] = p[k] * (1 - p[k])
            dz = g * dp_dz
            grad_in = self.W @ dz
            self.W -= lr * np.outer(self.flat, dz)
            self.c -= lr * dz
            return grad_in.reshape(self.shape_in)
'''

FLATTENING_DENSE = '''\
import numpy as np


class FlatDense:
    def __init__(self, n_in, n_out):
        self.weights = np.random.randn(n_in, n_out) / n_in
        self.bias = np.zeros(n_out)

    def forward(self, image):
        self.orig_shape = image.shape
        self.vec = image.ravel()
        self.pre = self.vec @ self.weights + self.bias
        return np.tanh(self.pre)

    def backprop(self, d_out, learn_rate=0.01):
        d_pre = d_out * (1 - np.tanh(self.pre) ** 2)
        d_vec = self.weights @ d_pre
        self.weights -= learn_rate * np.outer(self.vec, d_pre)
        self.bias -= learn_rate * d_pre
        return d_vec.reshape(self.orig_shape)
'''

CASES = {
    "softmax": (ONE_ENTRY_SOFTMAX, "ProbLayer", '            dp_dz[k] = p[k] * (1 - p[k])', '            dp_dz[k] = p[k] * (1 + p[k])  # BUG: the diagonal of the softmax Jacobian is p(1 - p)'),
    "dense": (FLATTENING_DENSE, "FlatDense", '        d_pre = d_out * (1 - np.tanh(self.pre) ** 2)', '        d_pre = d_out * (1 - np.tanh(self.pre))  # BUG: the slope of tanh is 1 - tanh ** 2'),
}


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


@pytest.mark.parametrize("case", sorted(CASES))
def test_correct_flattening_layer_is_checked_on_one_sample(tmp_path, case):
    source, layer, _, _ = CASES[case]
    path = tmp_path / "layer.py"
    path.write_text(source)
    code, report = check(path)
    assert errors(report) == [], errors(report)
    built = next(b for b in report["built"] if b["what"] == layer)
    assert built["skipped"] is None and built["shapes"].startswith("one unbatched sample x ("), built
    assert ("one nonzero entry" in built["shapes"]) == (case == "softmax"), built
    assert {"x"} < {m["param"] for m in report["measurements"] if m["layer"] == layer}
    assert code == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_bug_in_a_flattening_layer_is_reported(tmp_path, case):
    source, layer, good, bad = CASES[case]
    assert source.count(good) == 1
    path = tmp_path / "layer.py"
    path.write_text(source.replace(good, bad))
    code, report = check(path)
    found = errors(report)
    assert found and {f["name"] for f in found} == {"gradient-mismatch"}, found  # no batch probe on a flattened sample
    assert {f["layer"] for f in found} == {layer}
    bug_line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)
    if case == "dense":
        assert {f["line"] for f in found} == {bug_line}, found
    else:  # the one-entry loop: named where the wrong Jacobian row is used (`dz = g * dp_dz`), two lines on
        assert all(bug_line <= f["line"] <= bug_line + 6 for f in found), found
    assert code == 1
