"""The deep-learning course's activation helpers: `relu(Z) -> (A, cache)` beside
`relu_backward(dA, cache) -> dZ`, with no `_forward` in the forward's name. They are paired and
checked like cs231n's `relu_forward`/`relu_backward`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

HELPERS = '''\
import numpy as np


def sigmoid(Z):
    A = 1 / (1 + np.exp(-Z))
    return A, Z


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def relu(Z):
    return np.maximum(0, Z), Z


def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ
'''


def test_the_helpers_are_paired_and_clean(tmp_path):
    report = check(write(tmp_path, "dnn_utils.py", HELPERS))
    assert errors(report) == []
    assert {b["what"] for b in report["built"]} >= {"sigmoid/sigmoid_backward", "relu/relu_backward"}


def test_a_wrong_activation_backward_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "dnn_utils.py", HELPERS, "    return dA * s * (1 - s)\n", "    return dA * s\n")
    (found,) = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found["line"] == line_of(path, "return dA * s")
