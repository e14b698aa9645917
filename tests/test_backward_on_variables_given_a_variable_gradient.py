"""An autograd function whose backward computes on the framework's own objects (`gy * cos(x)` with
`cos(x)` a `Variable`) is given its upstream gradient as the framework gives it, a `Variable`, when
a plain array gives an array of `Variable`s: a class that does not set `__array_priority__` (or
misspells it) leaves NumPy to multiply an array by it element by element. A correct one is then
clean (no bad return, no backward that differs when called twice), and a wrong one is a gradient
mismatch at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# DeZero-style: operators on `Variable`s are functions too, and the class sets no array priority
FRAMEWORK = '''\
import numpy as np


class Variable:
    def __init__(self, data):
        self.data = np.asarray(data, dtype=float)
        self.grad = None

    def __mul__(self, other):
        return Mul()(self, as_variable(other))

    def __rmul__(self, other):
        return Mul()(as_variable(other), self)

    def __neg__(self):
        return Mul()(self, Variable(-1.0))


def as_variable(value):
    return value if isinstance(value, Variable) else Variable(value)


class Function:
    def __call__(self, *inputs):
        inputs = [as_variable(x) for x in inputs]
        y = self.forward(*[x.data for x in inputs])
        self.inputs = inputs
        return Variable(y)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy * a


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * cos(x)


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * -sin(x)


def sin(x):
    return Sin()(x)


def cos(x):
    return Cos()(x)
'''

# a smaller autograd of its own: a `Node` that holds its array in `.data`, with `__mul__` only by name
NODES = '''\
import numpy as np


class Node:
    def __init__(self, data):
        self.data = np.asarray(data, dtype=float)

    def __mul__(self, other):
        other = other if isinstance(other, Node) else Node(other)
        return Times()(self, other)

    __rmul__ = __mul__


class Op:
    def __call__(self, *nodes):
        self.args = nodes
        return Node(self.forward(*[n.data for n in nodes]))


class Times(Op):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.args
        return g * b, g * a


class Exp(Op):
    def forward(self, x):
        return np.exp(x)

    def backward(self, g):
        return g * Exp()(self.args[0])
'''


def _checked(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def _errors(report: dict) -> list[tuple[str, str, int]]:
    return [(f["code"], f["layer"], f["line"]) for f in errors(report)]


def test_correct_sin_and_cos_on_variables_are_clean(tmp_path):
    report = check(write(tmp_path, "functions.py", FRAMEWORK))
    assert errors(report) == []
    assert {("Sin", "x"), ("Cos", "x"), ("Mul", "x")} <= _checked(report)


def test_a_correct_exp_of_a_small_autograd_on_nodes_is_clean(tmp_path):
    report = check(write(tmp_path, "nodes.py", NODES))
    assert errors(report) == []
    assert {("Exp", "x"), ("Times", "x")} <= _checked(report)


def test_a_wrong_sin_backward_on_variables_is_a_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "functions.py", FRAMEWORK, "return gy * cos(x)", "return gy * sin(x)")
    assert _errors(check(path)) == [("BPD101", "Sin", line_of(path, "return gy * sin(x)"))]


def test_a_wrong_exp_backward_on_nodes_is_a_mismatch_at_its_line(tmp_path):
    path = planted(tmp_path, "nodes.py", NODES, "return g * Exp()(self.args[0])", "return g * self.args[0]")
    assert _errors(check(path)) == [("BPD101", "Exp", line_of(path, "return g * self.args[0]"))]
