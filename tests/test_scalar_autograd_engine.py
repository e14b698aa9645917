"""A scalar autograd engine written by hand (micrograd style): every operation is built on fresh values,
the class's own `backward()` runs, and each input's `grad` is compared with the slope of the output's
`data`. A wrong local derivative is named at its closure, a gradient set with `=` instead of added
with `+=` at that assignment, and a `backward()` that visits the graph out of order at its `def`;
the right engine is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

ENGINE = """\
import math
import random


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def backward(self):
        topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


class Neuron:
    def __init__(self, n_in):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(n_in)]
        self.b = Value(0.0)

    def __call__(self, x):
        return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, n_in, sizes):
        dims = [n_in] + sizes
        self.layers = [[Neuron(dims[i]) for _ in range(dims[i + 1])] for i in range(len(sizes))]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]


random.seed(0)
xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]
model = MLP(3, [4, 4, 1])
for k in range(50):
    preds = [model(x) for x in xs]
    loss = sum((yp - yt) ** 2 for yt, yp in zip(ys, preds))
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    for p in model.parameters():
        p.data += -0.05 * p.grad
"""


def _found(path):
    report = check(path)
    return report, [f for f in errors(report) if f["name"] == "scalar-backward-wrong"]


def test_a_right_engine_is_checked_and_clean(tmp_path):
    report, found = _found(write(tmp_path, "engine.py", ENGINE))
    assert found == [] and errors(report) == []
    assert report["verdict"].startswith("✓") and "1 autograd engine" in report["verdict"]
    checked = {m["layer"] for m in report["measurements"]}
    assert {"Value `a * b`", "Value `a.tanh()`", "Value `a * a`", "Value `(a * b + b).tanh()`"} <= checked


def test_a_wrong_local_derivative_is_named_at_its_closure(tmp_path):
    path = planted(tmp_path, "engine.py", ENGINE, "self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - t) * out.grad")
    _, (found,) = _found(path)
    assert (found["pattern"], found["layer"]) == ("wrong-derivative", "Value.tanh")
    lines = path.read_text().splitlines()
    assert lines[found["line"] - 1].strip() == "self.grad += (1 - t) * out.grad" and found["line"] > line_of(path, "def tanh(self):")


def test_a_gradient_set_instead_of_added_is_named_at_the_assignment(tmp_path):
    path = planted(tmp_path, "engine.py", ENGINE, "            self.grad += other.data * out.grad\n", "            self.grad = other.data * out.grad\n")
    _, (found,) = _found(path)
    assert (found["pattern"], found["layer"], found["line"]) == ("gradient-assigned", "Value.__mul__", line_of(path, "self.grad = other.data * out.grad"))
    assert found["fix"] == "self.grad += other.data * out.grad"


def test_the_other_operands_gradient_in_place_of_its_value_is_a_wrong_derivative(tmp_path):
    path = planted(tmp_path, "engine.py", ENGINE, "self.grad += other.data * out.grad", "self.grad += other.grad * out.grad")
    _, found = _found(path)
    assert [(f["pattern"], f["layer"]) for f in found] == [("wrong-derivative", "Value.__mul__")]


def test_a_backward_pass_in_the_wrong_order_is_named_at_the_loop_that_calls_the_closures(tmp_path):
    path = planted(tmp_path, "engine.py", ENGINE, "for node in reversed(topo):", "for node in topo:")
    _, (found,) = _found(path)
    assert (found["pattern"], found["line"]) == ("backward-order", line_of(path, "for node in topo:"))


def test_an_engine_that_names_its_number_value_and_its_closure_grad_fn_is_checked(tmp_path):
    """`self.value`, not `self.data`; `out._grad_fn = _grad_fn`, not `out._backward`: the same engine
    under the names a lecture gave it is found, and a gradient set instead of added is named."""
    renamed = ENGINE.replace(".data", ".value").replace("self.data = data", "self.value = data").replace("_backward", "_grad_fn")
    assert "self.value = data" in renamed and "out._grad_fn = _grad_fn" in renamed
    report, found = _found(write(tmp_path / "ok", "engine.py", renamed))
    assert found == [] and "1 autograd engine" in report["verdict"]
    path = planted(tmp_path / "bug", "engine.py", renamed, "            self.grad += out.grad\n", "            self.grad = out.grad\n")
    _, (found,) = _found(path)
    assert (found["pattern"], found["layer"], found["line"]) == ("gradient-assigned", "Value.__add__", line_of(path, "self.grad = out.grad"))
