"""Activation backwards written the other common ways, checked like the course's helpers:

- the forward returns its output alone (`relu(Z) -> A`) and the backward takes the input or the
  output again (`relu_backward(dA, Z)`, `sigmoid_backward(dA, A)`);
- a derivative of NumPy's tanh (`tanh_backward(dA, Z)`, `tanh_prime(x)`) with no `tanh` of the file's own;
- methods of a network class that never read the instance (`self.sigmoid_backward(dA, Z)`),
  checked without building the network."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PLAIN = """\
import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * s * (1 - s)


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def tanh_backward(dA, A):
    return dA * (1 - A ** 2)
"""

METHODS = """\
import numpy as np


class DeepNetwork:
    def __init__(self, sizes, alpha=0.01):
        self.sizes = sizes
        self.alpha = alpha
        self.W = [np.random.randn(m, n) * 0.1 for n, m in zip(sizes[:-1], sizes[1:])]

    def sigmoid(self, Z):
        return 1 / (1 + np.exp(-Z))

    def sigmoid_backward(self, dA, Z):
        s = self.sigmoid(Z)
        return dA * s * (1 - s)

    def tanh_backward(self, dA, Z):
        t = np.tanh(Z)
        return dA * (1 - t * t)

    def leaky_relu_backward(self, dA, Z):
        return np.where(Z > 0, dA, self.alpha * dA)

    def tanh_prime(self, x):
        return 1 - np.tanh(x) ** 2
"""


def built(report: dict) -> set[str]:
    return {b["what"] for b in report["built"]}


def test_plain_output_activations_are_paired_whichever_value_their_backward_takes_again(tmp_path):
    report = check(write(tmp_path, "activations.py", PLAIN))
    assert errors(report) == []
    assert built(report) >= {"sigmoid/sigmoid_backward", "relu/relu_backward", "tanh/tanh_backward"}
    assert not [f for f in report["findings"] if f["name"] == "build-failed"]


def test_a_plain_sigmoid_backward_missing_its_factor_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "activations.py", PLAIN, "    return dA * s * (1 - s)\n", "    return dA * (1 - s)\n")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "return dA * (1 - s)"))
    assert "the derivative of sigmoid is `dA * s * (1 - s)`, with `s = sigmoid(Z)`" in found["message"]


def test_a_wrong_backward_of_numpys_tanh_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "activations.py", PLAIN, "    return dA * (1 - A ** 2)\n", "    return dA * (1 + A ** 2)\n")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "1 + A ** 2"))


def test_self_free_methods_of_a_network_class_are_checked_without_building_it(tmp_path):
    report = check(write(tmp_path, "deep.py", METHODS))
    assert errors(report) == []
    assert built(report) >= {"sigmoid/sigmoid_backward", "tanh/tanh_backward", "tanh/tanh_prime"}
    # `leaky_relu_backward` reads `self.alpha`: not a function in disguise, so neither checked nor a failed build
    assert not any("leaky" in what for what in built(report))
    assert not [f for f in report["findings"] if f["name"] == "build-failed"]


def test_a_method_backward_that_forgets_the_upstream_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "deep.py", METHODS, "        return dA * (1 - t * t)\n", "        return 1 - t * t\n")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "return 1 - t * t"))


def test_a_wrong_derivative_method_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "deep.py", METHODS, "        return 1 - np.tanh(x) ** 2\n", "        return 1 - np.tanh(x)\n")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "return 1 - np.tanh(x)"))
    # a local derivative: no upstream gradient in the advice
    assert "the derivative of tanh is `(1 - np.tanh(Z) ** 2)` (written of its output `A = tanh(Z)`: `(1 - A ** 2)`)" in found["message"]
