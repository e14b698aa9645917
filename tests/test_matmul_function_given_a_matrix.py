"""A two-input autograd function `forward(x, W)` that multiplies by its second input (`x.dot(W)`) is
checked with a matrix W. Forward runs on a vector W too (one number per sample), but its backward
(`gy.dot(W.T)`, `x.T.dot(gy)`) is written for the matrix every caller gives it, so the shapes the
check chooses are the first on which backward runs as well: a correct function is clean, a wrong
gradient of W is a mismatch at its line, and a backward that raises on every shape is still
reported where it raises."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# a DeZero-style framework: `Function.__call__` unwraps `Variable`s and keeps them for backward
FRAMEWORK = '''\
import numpy as np


class Variable:
    def __init__(self, data):
        self.data = np.asarray(data, dtype=float)
        self.grad = None


class Function:
    def __call__(self, *inputs):
        outputs = self.forward(*[v.data for v in inputs])
        self.inputs = inputs
        return Variable(outputs)

    def forward(self, *xs):
        raise NotImplementedError()

    def backward(self, gy):
        raise NotImplementedError()


class MatMul(Function):
    def forward(self, x, W):
        return x.dot(W)

    def backward(self, gy):
        x, W = self.inputs[0].data, self.inputs[1].data
        return gy.dot(W.T), x.T.dot(gy)
'''

# a smaller autograd of its own: `Op.__call__` saves the nodes it was given (their arrays in `.data`)
TENSORS = '''\
import numpy as np


class Node:
    def __init__(self, data, parents=()):
        self.data = data
        self.parents = parents


class Op:
    def __call__(self, *nodes):
        self.saved = nodes
        return Node(self.forward(*[n.data for n in nodes]), nodes)


class Dot(Op):
    def forward(self, a, b):
        return np.dot(a, b)

    def backward(self, grad):
        a, b = self.saved[0].data, self.saved[1].data
        return np.dot(grad, b.T), np.dot(a.T, grad)
'''


def _checked(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def _errors(report: dict) -> list[tuple[str, str, int]]:
    return [(f["code"], f["layer"], f["line"]) for f in errors(report)]


def test_a_correct_dezero_matmul_is_checked_with_a_matrix_and_clean(tmp_path):
    report = check(write(tmp_path, "functions.py", FRAMEWORK))
    assert errors(report) == []
    assert {("MatMul", "x"), ("MatMul", "W")} <= _checked(report)


def test_a_correct_dot_of_a_small_autograd_is_checked_with_a_matrix_and_clean(tmp_path):
    report = check(write(tmp_path, "tensors.py", TENSORS))
    assert errors(report) == []
    assert {("Dot", "x"), ("Dot", "b")} <= _checked(report)  # the first input is the engine's `x`


def test_a_wrong_gradient_of_the_matrix_is_a_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "functions.py", FRAMEWORK, "x.T.dot(gy)", "x.T.dot(gy) / len(x)")
    assert _errors(check(path)) == [("BPD101", "MatMul", line_of(path, "x.T.dot(gy) / len(x)"))]


def test_a_wrong_input_gradient_of_a_small_autograd_is_a_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "tensors.py", TENSORS, "return np.dot(grad, b.T), np.dot(a.T, grad)", "return -np.dot(grad, b.T), np.dot(a.T, grad)")
    assert _errors(check(path)) == [("BPD101", "Dot", line_of(path, "return -np.dot(grad, b.T)"))]


def test_a_backward_that_raises_on_every_shape_is_still_reported_where_it_raises(tmp_path):
    path = planted(tmp_path, "functions.py", FRAMEWORK, "return gy.dot(W.T)", "return gy.dot(W)")
    assert _errors(check(path)) == [("BPD105", "MatMul", line_of(path, "return gy.dot(W)"))]
