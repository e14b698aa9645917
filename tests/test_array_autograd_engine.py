"""An autograd engine over arrays (a `Tensor` class wrapping an ndarray, `_backward` closures, a
`backward()` that sorts the graph): it is found like a scalar `Value` engine, checked on one-element
arrays, and the training step that reads `.grad` is replayed against the program's own loss, read
from the loss node's array. A `backward()` that calls the closures from the inputs on (every gradient
zero) is named at the loop that calls them; the right engine is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

# style 1: a class with `data` and `grad`, operators `@`, `+`, `relu`, a loss method, an MLP over a list of parameters
TENSOR = """\
import numpy as np


class Tensor:
    def __init__(self, data, parents=()):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self.parents = parents
        self._backward = lambda: None

    def __matmul__(self, other):
        out = Tensor(self.data @ other.data, (self, other))

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def __add__(self, other):
        out = Tensor(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad.sum(axis=0) if other.data.ndim == 1 else out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Tensor(np.maximum(self.data, 0.0), (self,))

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def mse(self, target):
        diff = self.data - target
        out = Tensor(np.mean(diff ** 2), (self,))

        def _backward():
            self.grad += 2.0 * diff / diff.size * out.grad
        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def walk(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for parent in node.parents:
                walk(parent)
            order.append(node)
        walk(self)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            node._backward()


rng = np.random.default_rng(1)
X = rng.normal(size=(64, 3))
y = np.sin(X.sum(axis=1, keepdims=True))
params = [Tensor(rng.normal(size=(3, 8)) * 0.5), Tensor(np.zeros(8)), Tensor(rng.normal(size=(8, 1)) * 0.5), Tensor(np.zeros(1))]
W1, b1, W2, b2 = params
for epoch in range(200):
    for p in params:
        p.grad = np.zeros_like(p.data)
    loss = ((Tensor(X) @ W1 + b1).relu() @ W2 + b2).mse(y)
    loss.backward()
    for p in params:
        p.data -= 0.05 * p.grad
    if epoch % 50 == 0:
        print(epoch, float(loss.data))
"""

# style 2: `value`, not `data`; closures named `grad_fn`; an iterative topological sort; a model object with `parameters()`
NODE = """\\
import numpy as np


def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Var:
    def __init__(self, value, inputs=()):
        self.value = np.array(value, dtype=np.float64)
        self.grad = np.zeros(self.value.shape)
        self.inputs = inputs
        self.grad_fn = None

    def __mul__(self, other):
        out = Var(self.value * other.value, (self, other))

        def grad_fn():
            self.grad += unbroadcast(other.value * out.grad, self.value.shape)
            other.grad += unbroadcast(self.value * out.grad, other.value.shape)
        out.grad_fn = grad_fn
        return out

    def __add__(self, other):
        out = Var(self.value + other.value, (self, other))

        def grad_fn():
            self.grad += unbroadcast(out.grad, self.value.shape)
            other.grad += unbroadcast(out.grad, other.value.shape)
        out.grad_fn = grad_fn
        return out

    def tanh(self):
        t = np.tanh(self.value)
        out = Var(t, (self,))

        def grad_fn():
            self.grad += (1 - t ** 2) * out.grad
        out.grad_fn = grad_fn
        return out

    def sum(self):
        out = Var(self.value.sum(), (self,))

        def grad_fn():
            self.grad += np.ones_like(self.value) * out.grad
        out.grad_fn = grad_fn
        return out

    def backward(self):
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for i in node.inputs:
                stack.append((i, False))
        self.grad = np.ones_like(self.value)
        for node in order[::-1]:
            if node.grad_fn is not None:
                node.grad_fn()


class Model:
    def __init__(self, rng):
        self.w = Var(rng.normal(size=(1, 4)) * 0.5)
        self.b = Var(np.zeros((1, 4)))
        self.v = Var(rng.normal(size=(1, 4)) * 0.5)

    def __call__(self, x):
        return ((x * self.w + self.b).tanh() * self.v).sum()

    def parameters(self):
        return [self.w, self.b, self.v]


rng = np.random.default_rng(3)
xs = rng.normal(size=(32, 1))
ys = np.cos(xs)
model = Model(rng)
lr = 0.01
for it in range(150):
    for p in model.parameters():
        p.grad[...] = 0.0
    cost = Var(0.0)
    for x, t in zip(xs, ys):
        err = model(Var(x)) + Var(-t[0])
        cost = cost + err * err
    cost.backward()
    for p in model.parameters():
        p.value -= lr * p.grad
    if it % 30 == 0:
        print(it, float(cost.value))
"""


def test_a_right_array_engine_is_checked_and_its_step_replayed(tmp_path):
    for name, text in (("tensor.py", TENSOR), ("node.py", NODE)):
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""))
        assert errors(report) == [], (name, errors(report))
        assert any(b["kind"] == "autograd engine" for b in report["built"]), name
        replayed(report)
        verdicts = step_verdicts(report)
        assert verdicts and set(verdicts.values()) == {"ok"}, (name, verdicts)


def test_a_backward_that_calls_the_closures_from_the_inputs_on_is_named_at_its_loop(tmp_path):
    for name, text, right, wrong in (
        ("tensor.py", TENSOR, "for node in reversed(order):", "for node in order:"),
        ("node.py", NODE, "for node in order[::-1]:", "for node in order:"),
    ):
        path = planted(tmp_path / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path)
        (found,) = [f for f in errors(report) if f["name"] == "scalar-backward-wrong"]
        assert (found["pattern"], found["line"]) == ("backward-order", line_of(path, wrong)), (name, found)
        assert report["root_cause"] is not None and report["findings"][report["root_cause"]]["name"] == "scalar-backward-wrong", name
        # the replayed step measures every gradient `backward()` left in `.grad` against the program's own loss
        verdicts = step_verdicts(report)
        assert verdicts and "mismatch" in verdicts.values(), (name, verdicts)
        assert not any("replaces" in f["message"] and "new arrays" in f["message"] for f in report["findings"]), name
