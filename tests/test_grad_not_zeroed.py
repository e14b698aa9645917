"""A scalar autograd training loop that never sets `.grad` back to zero: `grad-not-zeroed`
(BPD207) at its `.backward()` line; the same loop with the gradients reset, by hand, by a
`zero_grad()` method or by an engine whose `backward()` zeroes the graph first, is clean. The
engine may sit in a file beside the training script, two imports away."""

import textwrap

from tests.userfiles import check, errors, line_of, planted, write

ENGINE = """
    import math


    class Value:
        def __init__(self, data, _children=()):
            self.data = data
            self.grad = 0.0
            self._backward = lambda: None
            self._prev = set(_children)

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other))

            def _backward():
                self.grad += out.grad
                other.grad += out.grad
            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data * other.data, (self, other))

            def _backward():
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad
            out._backward = _backward
            return out

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,))

            def _backward():
                self.grad += (1 - t * t) * out.grad
            out._backward = _backward
            return out

        def __neg__(self):
            return self * -1

        def __radd__(self, other):
            return self + other

        def __sub__(self, other):
            return self + (-other)

        def __rmul__(self, other):
            return self * other

        def backward(self):
            topo, seen = [], set()

            def visit(v):
                if v not in seen:
                    seen.add(v)
                    for child in v._prev:
                        visit(child)
                    topo.append(v)
            visit(self)
            self.grad = 1.0
            for v in reversed(topo):
                v._backward()
"""

NET = """
    import random


    class Neuron:
        def __init__(self, nin):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0.0)

        def __call__(self, x):
            return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

        def parameters(self):
            return self.w + [self.b]


    class MLP:
        def __init__(self, nin, width):
            self.hidden = [Neuron(nin) for _ in range(width)]
            self.out = Neuron(width)

        def __call__(self, x):
            return self.out([n(x) for n in self.hidden])

        def parameters(self):
            return [p for n in self.hidden for p in n.parameters()] + self.out.parameters()

        def zero_grad(self):
            for p in self.parameters():
                p.grad = 0.0
"""

TRAIN = """
    random.seed(3)
    model = MLP(2, 4)
    xs = [[1.0, -1.0], [0.5, 2.0], [-1.5, 0.3], [2.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    for step in range(30):
        loss = sum((model(x) - y) * (model(x) - y) for x, y in zip(xs, ys))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
"""

ENGINE, NET, TRAIN = (textwrap.dedent(part) for part in (ENGINE, NET, TRAIN))
ONE_FILE = ENGINE + NET + TRAIN


def test_a_loop_that_never_zeroes_the_gradients_is_found_at_its_backward_call(tmp_path):
    path = planted(tmp_path, "micro.py", ONE_FILE, "    model.zero_grad()\n", "")
    (found,) = errors(check(path))
    assert (found["code"], found["line"]) == ("BPD207", line_of(path, "loss.backward()"))
    assert f"line {line_of(path, 'for step in range(30)')}" in found["message"]
    assert "`model.zero_grad()`" in found["message"]


def test_the_same_loop_with_zero_grad_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "micro.py", ONE_FILE))) == []


def test_gradients_set_to_zero_by_hand_after_the_update_are_a_reset_too(tmp_path):
    text = ONE_FILE.replace("    model.zero_grad()\n", "").replace(
        "        p.data -= 0.05 * p.grad\n", "        p.data -= 0.05 * p.grad\n        p.grad = 0\n"
    )
    assert errors(check(write(tmp_path, "micro.py", text))) == []


def test_an_engine_whose_backward_zeroes_the_graph_first_needs_no_reset_in_the_loop(tmp_path):
    text = ONE_FILE.replace("    model.zero_grad()\n", "").replace(
        "        self.grad = 1.0\n", "        for v in topo:\n            v.grad = 0.0\n        self.grad = 1.0\n"
    )
    assert errors(check(write(tmp_path, "micro.py", text))) == []


def test_a_reset_helper_from_an_installed_package_is_a_reset_too(tmp_path):
    """`clear_grads(params)` from a package in site-packages: its file is not the user's, so its body
    is not read; its name says what it does."""
    write(tmp_path, "venv/lib/python3.11/site-packages/gradtools.py", """
        def clear_grads(params):
            for p in params:
                p.grad = 0.0
    """)
    text = ONE_FILE.replace("    def zero_grad(self):\n        for p in self.parameters():\n            p.grad = 0.0\n", "")
    text = "import sys\nsys.path.insert(0, 'venv/lib/python3.11/site-packages')\nfrom gradtools import clear_grads\n" + text
    path = write(tmp_path, "micro.py", text.replace("    model.zero_grad()\n", "    clear_grads(model.parameters())\n"))
    assert errors(check(path)) == []
    unreset = write(tmp_path, "micro_unreset.py", text.replace("    model.zero_grad()\n", ""))
    assert [f["code"] for f in errors(check(unreset))] == ["BPD207"]


def test_without_a_zero_grad_method_the_fix_resets_each_parameter(tmp_path):
    text = ONE_FILE.replace("    model.zero_grad()\n", "").replace("    def zero_grad(self):\n        for p in self.parameters():\n            p.grad = 0.0\n", "")
    (found,) = errors(check(write(tmp_path, "micro.py", text)))
    assert found["code"] == "BPD207"
    assert "`for p in model.parameters(): p.grad = 0.0`" in found["message"]


def test_a_training_script_whose_engine_is_two_imports_away_is_checked(tmp_path):
    write(tmp_path, "engine.py", ENGINE)
    write(tmp_path, "nn.py", "from engine import Value\n" + NET)
    train = write(tmp_path, "train.py", "import random\nfrom nn import MLP\n" + TRAIN.replace("    model.zero_grad()\n", ""))
    report = check(train)
    assert [(f["code"], f["line"]) for f in errors(report)] == [("BPD207", line_of(train, "loss.backward()"))]
    assert any(b["kind"] == "autograd engine" for b in report["built"])


def test_the_split_script_with_zero_grad_is_clean_and_its_engine_checked(tmp_path):
    write(tmp_path, "engine.py", ENGINE)
    write(tmp_path, "nn.py", "from engine import Value\n" + NET)
    report = check(write(tmp_path, "train.py", "import random\nfrom nn import MLP\n" + TRAIN))
    assert errors(report) == []
    assert any(row["verdict"] == "ok" and row["layer"].startswith("Value") for row in report["measurements"])


def test_a_zero_grad_called_once_before_the_loop_is_named_there_with_the_move_as_fix(tmp_path):
    moved = ONE_FILE.replace("    model.zero_grad()\n", "").replace("for step in range(30):", "model.zero_grad()\nfor step in range(30):")
    path = write(tmp_path, "micro.py", moved)
    (found,) = errors(check(path))
    assert (found["code"], found["line"]) == ("BPD207", line_of(path, "model.zero_grad()"))
    assert found["pattern"] == "grad-reset-before-loop"
    assert "once, before your training loop" in found["message"]
    assert f"before line {line_of(path, 'loss.backward()')}" in found["message"]


PARAM_OBJECTS = """
    import numpy as np

    gen = np.random.default_rng(12)


    class Tensor:
        def __init__(self, data):
            self.data = data
            self.grad = np.zeros_like(data)


    class Dense:
        def __init__(self, n_in, n_out):
            self.w = Tensor(gen.normal(0, 1 / np.sqrt(n_in), size=(n_in, n_out)))
            self.c = Tensor(np.zeros(n_out))

        def forward(self, x):
            self.x = x
            return x @ self.w.data + self.c.data

        def backward(self, d):
            self.w.grad += self.x.T @ d
            self.c.grad += d.sum(axis=0)
            return d @ self.w.data.T


    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, d):
            return d * (1 - self.y ** 2)


    class Net:
        def __init__(self):
            self.layers = [Dense(3, 16), Tanh(), Dense(16, 1)]

        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def backward(self, d):
            for layer in reversed(self.layers):
                d = layer.backward(d)

        def tensors(self):
            return [t for layer in self.layers if isinstance(layer, Dense) for t in (layer.w, layer.c)]

        def clear_grads(self):
            for t in self.tensors():
                t.grad.fill(0.0)


    X = gen.normal(size=(256, 3))
    Y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]
    net = Net()
    for it in range(300):
        net.clear_grads()
        out = net.forward(X)
        loss = np.mean((out - Y) ** 2)
        net.backward(2 * (out - Y) / len(X))
        for t in net.tensors():
            t.data -= 0.1 * t.grad
"""
PARAM_OBJECTS = textwrap.dedent(PARAM_OBJECTS)


def test_parameter_objects_reset_in_the_loop_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "objects.py", PARAM_OBJECTS))) == []


def test_parameter_objects_reset_once_before_the_loop_are_named_at_the_reset(tmp_path):
    moved = PARAM_OBJECTS.replace("    net.clear_grads()\n", "").replace("for it in range(300):", "net.clear_grads()\nfor it in range(300):")
    path = write(tmp_path, "objects.py", moved)
    found = errors(check(path))
    assert found and (found[0]["code"], found[0]["line"]) == ("BPD207", line_of(path, "net.clear_grads()")), found
    assert "move `net.clear_grads()` into the loop" in found[0]["message"]


# A DeZero/Chainer-style autograd over arrays: the `Var`'s own `backward()` walks the graph adding into each
# input's `.grad` (`v.grad = v.grad + g`), and `cleargrads()` sets them back to None; no layer has a forward.
DEZERO_SCRIPT = '''
import numpy as np


class Var:
    def __init__(self, data, maker=None):
        self.data = np.asarray(data, dtype=float)
        self.grad = None
        self.maker = maker

    def cleargrad(self):
        self.grad = None

    def backward(self):
        self.grad = np.ones_like(self.data)
        todo, seen = [self.maker], set()
        while todo:
            op = todo.pop()
            if op is None or id(op) in seen:
                continue
            seen.add(id(op))
            gins = op.grads(op.out.grad)
            for v, g in zip(op.ins, gins):
                if v.grad is None:
                    v.grad = g
                else:
                    v.grad = v.grad + g
                todo.append(v.maker)


class Op:
    def __call__(self, *ins):
        self.ins = ins
        self.out = Var(self.compute(*[v.data for v in ins]), maker=self)
        return self.out


class Affine(Op):
    def compute(self, x, w, b):
        return x @ w + b

    def grads(self, g):
        x, w, _ = self.ins
        return g @ w.data.T, x.data.T @ g, g.sum(axis=0)


class Sigmoid(Op):
    def compute(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return self.s

    def grads(self, g):
        return (g * self.s * (1 - self.s),)


class Mse(Op):
    def compute(self, p, t):
        return np.mean((p - t) ** 2)

    def grads(self, g):
        p, t = self.ins
        d = 2 * (p.data - t.data) / p.data.size
        return g * d, -g * d


class Net:
    def __init__(self, rng):
        self.w1 = Var(rng.normal(0, 0.5, (3, 12)))
        self.b1 = Var(np.zeros(12))
        self.w2 = Var(rng.normal(0, 0.5, (12, 1)))
        self.b2 = Var(np.zeros(1))

    def params(self):
        return [self.w1, self.b1, self.w2, self.b2]

    def cleargrads(self):
        for p in self.params():
            p.cleargrad()

    def __call__(self, x):
        h = Sigmoid()(Affine()(x, self.w1, self.b1))
        return Affine()(h, self.w2, self.b2)


rng = np.random.default_rng(5)
X = Var(rng.uniform(-1, 1, (120, 3)))
T = Var(np.cos(X.data[:, :1]) - X.data[:, 1:2] * X.data[:, 2:3])
net = Net(rng)
for step in range(400):
    net.cleargrads()
    loss = Mse()(net(X), T)
    loss.backward()
    for p in net.params():
        p.data -= 0.5 * p.grad
    if step % 100 == 0:
        print(step, float(loss.data))
'''

# Function-style nodes whose `backward()` adds with `+=`, a model's `clear_grads()` calling each tensor's
# `zerograd()`, and a training function.
CHAINER_FUNCTIONS = '''
import numpy as np


class Tensor:
    def __init__(self, value, parents=(), back=None):
        self.data = value
        self.grad = np.zeros_like(value)
        self.parents = parents
        self.back = back

    def zerograd(self):
        self.grad = np.zeros_like(self.data)

    def backward(self):
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for q in t.parents:
                    visit(q)
                order.append(t)

        visit(self)
        self.grad += 1.0
        for t in reversed(order):
            if t.back is not None:
                for q, g in zip(t.parents, t.back(t.grad)):
                    q.grad += g


def matmul(a, b):
    return Tensor(a.data @ b.data, (a, b), lambda g: (g @ b.data.T, a.data.T @ g))


def add_row(a, b):
    return Tensor(a.data + b.data, (a, b), lambda g: (g, g.sum(axis=0)))


def relu(a):
    m = a.data > 0
    return Tensor(a.data * m, (a,), lambda g: (g * m,))


def mean_square(p, y):
    diff = p.data - y
    return Tensor(np.array(np.mean(diff ** 2)), (p,), lambda g: (g * 2 * diff / diff.size,))


class Regressor:
    def __init__(self, seed):
        r = np.random.default_rng(seed)
        self.weights = [Tensor(r.normal(0, 0.4, (4, 20))), Tensor(np.zeros(20)),
                        Tensor(r.normal(0, 0.4, (20, 1))), Tensor(np.zeros(1))]

    def clear_grads(self):
        for w in self.weights:
            w.zerograd()

    def predict(self, x):
        a, b, c, d = self.weights
        return add_row(matmul(relu(add_row(matmul(Tensor(x), a), b)), c), d)


def fit(model, x, y, epochs=300, rate=0.05):
    history = []
    for epoch in range(epochs):
        model.clear_grads()
        loss = mean_square(model.predict(x), y)
        loss.backward()
        for w in model.weights:
            w.data -= rate * w.grad
        history.append(float(loss.data))
    return history


if __name__ == "__main__":
    g = np.random.default_rng(0)
    x = g.normal(size=(150, 4))
    y = x[:, :1] * 0.5 - np.abs(x[:, 1:2]) + 0.2 * x[:, 3:4]
    losses = fit(Regressor(1), x, y)
    print(losses[0], losses[-1])
'''


def _loud(report):
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def test_a_dezero_style_cleargrads_in_the_loop_is_clean(tmp_path):
    assert _loud(check(write(tmp_path, "dz.py", DEZERO_SCRIPT), training=True)) == []


def test_a_dezero_style_cleargrads_once_before_the_loop_is_named_at_the_reset(tmp_path):
    moved = DEZERO_SCRIPT.replace("    net.cleargrads()\n", "").replace("for step in range(400):", "net.cleargrads()\nfor step in range(400):")
    path = write(tmp_path, "dz.py", moved)
    report = check(path, training=True)
    found = errors(report)
    assert found and (found[0]["code"], found[0]["line"]) == ("BPD207", line_of(path, "net.cleargrads()")), found
    assert found[0]["pattern"] == "grad-reset-before-loop"
    assert "move `net.cleargrads()` into the loop" in found[0]["message"]
    assert report["findings"][report["root_cause"]]["code"] == "BPD207"


def test_function_style_nodes_reset_by_clear_grads_in_the_loop_are_clean(tmp_path):
    assert _loud(check(write(tmp_path, "fit.py", CHAINER_FUNCTIONS), training=True)) == []


def test_function_style_nodes_reset_once_before_the_loop_are_named_at_the_reset(tmp_path):
    moved = CHAINER_FUNCTIONS.replace("        model.clear_grads()\n", "").replace(
        "    for epoch in range(epochs):", "    model.clear_grads()\n    for epoch in range(epochs):"
    )
    path = write(tmp_path, "fit.py", moved)
    found = errors(check(path, training=True))
    assert found and (found[0]["code"], found[0]["line"]) == ("BPD207", line_of(path, "model.clear_grads()")), found
    assert "move `model.clear_grads()` into the loop" in found[0]["message"]
