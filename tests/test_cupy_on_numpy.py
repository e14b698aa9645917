"""Layers written for the GPU with CuPy (`import cupy as cp`, `cp.zeros_like`, `cp.sum`,
`cupyx.scatter_add`), checked on a machine without CuPy: they run on NumPy, which CuPy mirrors,
so they are checked instead of failing on an inert stand-in."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

GPU_LAYERS = """\
import numpy as np
import cupy as cp
import cupyx


class Embedding:
    def __init__(self, W):
        self.params = [W]
        self.grads = [cp.zeros_like(W)]
        self.idx = None

    def forward(self, idx):
        W, = self.params
        self.idx = idx
        return W[idx]

    def backward(self, dout):
        dW, = self.grads
        dW[...] = 0
        cupyx.scatter_add(dW, self.idx, dout)
        return None


class Softmax:
    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        e = cp.exp(x - x.max(axis=1, keepdims=True))
        self.out = e / cp.sum(e, axis=1, keepdims=True)
        return self.out

    def backward(self, dout):
        dx = self.out * dout
        sumdx = cp.sum(dx, axis=1, keepdims=True)
        dx -= self.out * sumdx
        return dx
"""


def test_gpu_layers_run_on_numpy_when_cupy_is_missing(tmp_path):
    path = write(tmp_path, "gpu_layers.py", GPU_LAYERS)
    report = check(path)
    assert errors(report) == []
    checked = {b["what"] for b in report["built"] if b["shapes"]}
    assert {"Embedding", "Softmax"} <= checked
    notes = {f["line"]: f["message"] for f in report["findings"] if f["name"] == "missing-module"}
    assert set(notes) == {line_of(path, "import cupy as cp"), line_of(path, "import cupyx")}
    assert all("ran the code that needs it on NumPy" in m for m in notes.values())


def test_a_wrong_softmax_gradient_written_with_cupy_is_found(tmp_path):
    path = planted(tmp_path, "gpu_layers.py", GPU_LAYERS, "dx -= self.out * sumdx", "dx += self.out * sumdx")
    (wrong,) = errors(check(path))
    assert (wrong["name"], wrong["line"]) == ("gradient-mismatch", line_of(path, "dx += self.out * sumdx"))
