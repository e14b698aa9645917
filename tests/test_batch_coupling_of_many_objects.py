"""batch-coupling over a file of several kinds of objects: every one is probed, in order, at the options' batch.

A batch-statistics layer without a train flag (a note), a correct loss layer, a layer taking the
batch mean, a cs231n pair that mixes rows by indexing (no reduction: its `def` line) and a hinge
loss function whose margins subtract the batch mean: a note or a clean object before the others
must not end the probing. Checked in-process by `check_file` at batches of 2 and 7.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

OBJECTS = """\
import numpy as np


class Standardize:
    def __init__(self):
        self.running_mean = np.zeros(6)

    def forward(self, x):
        return x - x.mean(axis=0)

    def backward(self, dout):
        return dout


class SoftmaxLoss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Center:
    def forward(self, x):
        return x - np.mean(x)

    def backward(self, dout):
        return dout


def flip_forward(x):
    return x + x[::-1], None


def flip_backward(dout, cache):
    return dout + dout[::-1]


def hinge_loss(x, y):
    n = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(n), y][:, None] + 1.0 - np.mean(x))
    margins[np.arange(n), y] = 0
    dx = (margins > 0).astype(float)
    dx[np.arange(n), y] -= dx.sum(axis=1)
    return margins.sum() / n, dx / n + x.mean()
"""


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def line_of(needle: str) -> int:
    return next(n for n, line in enumerate(OBJECTS.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("batch", [2, 7])
def test_each_object_after_a_note_and_a_clean_loss_layer_is_probed_at_the_options_batch(tmp_path, batch):
    path = tmp_path / "objects.py"
    path.write_text(OBJECTS, encoding="utf-8")
    report = check_file(path, Options(training=False, batch_size=batch))
    assert [b.what for b in report.built] == [
        "Standardize", "SoftmaxLoss", "Center", "flip_forward/flip_backward", "hinge_loss"
    ]
    found = {f.layer: f for f in report.by_name("batch-coupling")}
    assert {layer: (f.severity, f.line) for layer, f in found.items()} == {
        "Standardize": ("info", line_of("def forward(self, x):")),
        "Center": ("error", line_of("return x - np.mean(x)")),
        "flip_forward": ("error", line_of("def flip_forward")),
        "hinge_loss": ("error", line_of("def hinge_loss")),
    }
    coupling = {layer: dict(f.evidence)["coupling"] for layer, f in found.items() if f.severity == "error"}
    assert coupling["Center"].startswith(f"checked on a batch of {batch}, input ({batch}, 6): ")
    assert coupling["flip_forward"].startswith(f"checked on a batch of {batch} (x ({batch}, 6)), input ({batch}, 6): ")
    assert coupling["hinge_loss"].startswith(f"checked on a batch of {batch}, input ({batch}, 4): ")
    assert found["flip_forward"].fix == "np.mean(x, axis=1, keepdims=True)  # one per sample"
