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


COURSE_HELPERS = '''\
import numpy as np


def sigmoid(Z):
    A = 1 / (1 + np.exp(-Z))
    cache = Z
    return A, cache


def relu(Z):
    A = np.maximum(0, Z)
    return A, Z


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ


def tanh(x, deriv=False):
    if deriv:
        return 1 - np.tanh(x) ** 2
    return np.where(x > 0, (1 - np.exp(-2 * x)) / (1 + np.exp(-2 * x)), (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1))
'''


def test_activation_functions_that_compute_what_they_are_named_after_pass(tmp_path):
    report = check(write(tmp_path, "dnn_utils.py", COURSE_HELPERS))
    assert errors(report) == []


def test_a_sigmoid_function_with_the_wrong_exponent_is_the_root_at_the_line_it_makes_its_output(tmp_path):
    path = planted(tmp_path, "dnn_utils.py", COURSE_HELPERS, "A = 1 / (1 + np.exp(-Z))", "A = 1 / (1 + np.exp(Z))")
    found = errors(check(path))
    (root,) = [f for f in found if not f["caused_by"]]
    assert (root["name"], root["layer"], root["line"]) == ("activation-forward-wrong", "sigmoid", line_of(path, "A = 1 / (1 + np.exp(Z))"))
    assert all(f["caused_by"] == f"BPD111:sigmoid::{root['line']}" for f in found if f is not root)


def test_a_relu_function_that_keeps_the_negatives_is_found(tmp_path):
    path = planted(tmp_path, "dnn_utils.py", COURSE_HELPERS, "A = np.maximum(0, Z)", "A = np.minimum(0, Z)")
    (root,) = [f for f in errors(check(path)) if not f["caused_by"]]
    assert (root["name"], root["line"]) == ("activation-forward-wrong", line_of(path, "A = np.minimum(0, Z)"))
