"""A layer named after a standard activation whose forward computes something else: the root cause
is named in forward, and the backward's mismatch (right for the activation the layer is named
after) becomes its symptom."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
    import numpy as np


    class Relu:
        def __init__(self):
            self.mask = None

        def forward(self, x):
            self.mask = (x <= 0)
            out = x.copy()
            out[self.mask] = 0
            return out

        def backward(self, dout):
            dx = dout.copy()
            dx[self.mask] = 0
            return dx


    class SigmoidLayer:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * (1.0 - self.out) * self.out


    class Tanh:
        def forward(self, x):
            self.out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * (1 - self.out ** 2)
"""


def test_correct_activations_written_their_own_way_are_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "activation-forward-wrong"]


@pytest.mark.parametrize(
    ("correct", "wrong", "layer"),
    [
        ("out[self.mask] = 0", "out[~self.mask] = 0", "Relu"),
        ("self.out = 1 / (1 + np.exp(-x))", "self.out = 1 / (1 + np.exp(x))", "SigmoidLayer"),
    ],
)
def test_a_forward_that_is_not_the_activation_is_the_root_cause_at_its_line(tmp_path: Path, correct: str, wrong: str, layer: str) -> None:
    path = planted(tmp_path, "layers.py", LAYERS, correct, wrong)
    report = check(path)
    found = errors(report)
    root = next(f for f in found if not f.get("caused_by"))
    assert (root["name"], root["layer"], root["line"]) == ("activation-forward-wrong", layer, line_of(path, wrong))
    assert report["verdict"].startswith(f"✗ {path}: `{layer}.forward` does not compute")
    assert all(f["caused_by"] == f"BPD111:{layer}::{root['line']}" for f in found if f is not root)
