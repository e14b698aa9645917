"""Two gradients nothing reported.

An array autograd engine (a `Tensor` wrapping an ndarray, `_backward` closures) whose matrix product
sets an input's gradient (`self.grad = out.grad @ other.data.T`) instead of adding to it: a value used
twice (a skip connection `h + h @ W`, a weight tied across two layers) keeps only one use's gradient.
The engine check builds `a @ b` on 1 × 1 matrices (a product of the one-element 0-d arrays its other
operations are checked on raises) and names the assignment; the engine with `+=` is clean. A loss the
engine computes with a method named for its reduction (`(out - Tensor(Y)).mean_square()`) is the step's
loss, not an output error: the step is replayed against it.

A multi-output regressor whose loss is a mean over every entry (rows × outputs) while the output's
gradient is divided by the rows alone, formed in a method or function that hands it through a loop over
the layers (no adjoint the step's walk can pair), and the loss either only reported now and then or
computed in the pass by a function of the file: every update is as many times too large as there are
outputs, named at the division. Divided by every entry, it is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

# style 1: micrograd over arrays, `data`/`_prev`/`_backward`, a residual block: `h` feeds the skip and `h @ W2`;
# the loss a method named for its reduction, `(out - Tensor(Y)).mean_square()` (a loss, not the output's error)
RESIDUAL = """\
import numpy as np


class Tensor:
    def __init__(self, data, _prev=()):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self._prev = _prev
        self._backward = lambda: None

    def __add__(self, other):
        out = Tensor(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad.sum(axis=0).reshape(other.data.shape) if other.data.shape != out.data.shape else out.grad
        out._backward = _backward
        return out

    def __matmul__(self, other):
        out = Tensor(self.data @ other.data, (self, other))

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Tensor(np.maximum(self.data, 0.0), (self,))

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def __sub__(self, other):
        out = Tensor(self.data - other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = _backward
        return out

    def mean_square(self):
        out = Tensor(np.mean(self.data ** 2), (self,))

        def _backward():
            self.grad += 2.0 * self.data / self.data.size * out.grad
        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._prev:
                    visit(parent)
                order.append(node)
        visit(self)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            node._backward()


rng = np.random.default_rng(2)
X = rng.normal(size=(40, 3))
Y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3]
W1 = Tensor(rng.normal(size=(3, 6)) * 0.5)
b1 = Tensor(np.zeros((1, 6)))
W2 = Tensor(rng.normal(size=(6, 6)) * 0.3)
W3 = Tensor(rng.normal(size=(6, 1)) * 0.5)
params = [W1, b1, W2, W3]
for step in range(30):
    for p in params:
        p.grad = np.zeros_like(p.data)
    h = (Tensor(X) @ W1 + b1).relu()
    out = (h + (h @ W2).relu()) @ W3
    loss = (out - Tensor(Y)).mean_square()
    loss.backward()
    for p in params:
        p.data -= 0.05 * p.grad
print(float(loss.data))
"""

RESIDUAL_RIGHT = "            self.grad += out.grad @ other.data.T\n"
RESIDUAL_WRONG = "            self.grad = out.grad @ other.data.T\n"

# style 2: `val`, closures kept as `grad_fn`, grads added with `x.grad = x.grad + ...`; one square weight tied
# across two layers, so the weight's side of the product is the one used twice
TIED = """\
import numpy as np


class Node:
    def __init__(self, val, parents=()):
        self.val = np.array(val, dtype=np.float64)
        self.grad = np.zeros(self.val.shape)
        self.parents = parents
        self.grad_fn = None

    def __matmul__(self, other):
        out = Node(self.val @ other.val, (self, other))

        def grad_fn():
            self.grad = self.grad + out.grad @ other.val.T
            other.grad = other.grad + self.val.T @ out.grad
        out.grad_fn = grad_fn
        return out

    def __add__(self, other):
        out = Node(self.val + other.val, (self, other))

        def grad_fn():
            self.grad = self.grad + out.grad
            other.grad = other.grad + out.grad
        out.grad_fn = grad_fn
        return out

    def tanh(self):
        t = np.tanh(self.val)
        out = Node(t, (self,))

        def grad_fn():
            self.grad = self.grad + (1.0 - t * t) * out.grad
        out.grad_fn = grad_fn
        return out

    def sq_mean(self):
        out = Node(np.mean(self.val ** 2), (self,))

        def grad_fn():
            self.grad = self.grad + 2.0 * self.val / self.val.size * out.grad
        out.grad_fn = grad_fn
        return out

    def backward(self):
        topo, done = [], set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif id(node) not in done:
                done.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = np.ones_like(self.val)
        for node in reversed(topo):
            if node.grad_fn is not None:
                node.grad_fn()


gen = np.random.default_rng(8)
inputs = gen.normal(size=(24, 4))
targets = np.tanh(inputs.sum(axis=1, keepdims=True))
shared = Node(gen.normal(size=(4, 4)) * 0.4)
head = Node(gen.normal(size=(4, 1)) * 0.4)
for it in range(25):
    for p in (shared, head):
        p.grad = np.zeros_like(p.val)
    z = ((Node(inputs) @ shared).tanh() @ shared).tanh() @ head
    cost = (z + Node(-targets)).sq_mean()
    cost.backward()
    for p in (shared, head):
        p.val -= 0.1 * p.grad
print(float(cost.val))
"""

TIED_RIGHT = "            other.grad = other.grad + self.val.T @ out.grad\n"
TIED_WRONG = "            other.grad = self.val.T @ out.grad\n"


def test_an_engines_matrix_product_that_sets_a_gradient_is_named_at_the_assignment(tmp_path):
    for name, text, right, wrong, operand in (
        ("residual.py", RESIDUAL, RESIDUAL_RIGHT, RESIDUAL_WRONG, "a"),
        ("tied.py", TIED, TIED_RIGHT, TIED_WRONG, "b"),
    ):
        clean = check(planted(tmp_path / "right" / name.removesuffix(".py"), name, text, "", ""))
        assert errors(clean) == [], (name, errors(clean))
        assert any(m["layer"].endswith("`a @ b`") and m["verdict"] == "ok" for m in clean["measurements"]), name
        path = planted(tmp_path / "wrong" / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path)
        found = [f for f in errors(report) if f["name"] == "scalar-backward-wrong"]
        assert len(found) == 1, (name, errors(report))
        (finding,) = found
        assert (finding["pattern"], finding["line"], finding["param"]) == ("gradient-assigned", line_of(path, wrong.strip()), operand), (name, finding)
        assert finding["layer"].endswith(".__matmul__"), finding
        assert "+=" in (finding["fix"] or ""), finding
        assert report["root_cause"] is not None and report["findings"][report["root_cause"]]["name"] == "scalar-backward-wrong", name
        if name == "residual.py":  # the step is replayed against its `mean_square()` loss: only the stem before the skip is wrong
            assert set(step_verdicts(clean).values()) == {"ok"}, step_verdicts(clean)
            verdicts = step_verdicts(report)
            assert (verdicts["W1.data"], verdicts["b1.data"], verdicts["W2.data"], verdicts["W3.data"]) == ("mismatch", "mismatch", "ok", "ok"), verdicts


# style 1: layer objects in a list, one `train_step` method that forms the output's gradient, hands it back
# through the layers and updates; the loss (a method of the model) only printed every few steps
LAYERED = """\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0.0, n_in ** -0.5, (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.gW = self.x.T @ g
        self.gb = g.sum(axis=0)
        return g @ self.W.T

    def update(self, lr):
        self.W -= lr * self.gW
        self.b -= lr * self.gb


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1.0 - self.y ** 2)

    def update(self, lr):
        pass


class Regressor:
    def __init__(self, rng):
        self.layers = [Linear(4, 10, rng), Tanh(), Linear(10, 3, rng)]

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return ((self.predict(x) - t) ** 2).mean()

    def train_step(self, x, t, lr):
        out = self.predict(x)
        g = 2.0 * (out - t) / t.size
        for layer in self.layers[::-1]:
            g = layer.backward(g)
        for layer in self.layers:
            layer.update(lr)


rng = np.random.default_rng(5)
data = rng.normal(size=(90, 4))
labels = np.stack([data[:, 0] * data[:, 1], np.cos(data[:, 2]), data[:, 3] - data[:, 0]], axis=1)
net = Regressor(rng)
for epoch in range(40):
    xb, tb = data[30 * (epoch % 3):30 * (epoch % 3) + 30], labels[30 * (epoch % 3):30 * (epoch % 3) + 30]
    net.train_step(xb, tb, 0.2)
    if epoch % 10 == 0:
        print(epoch, net.loss(xb, tb))
"""

LAYERED_RIGHT = "g = 2.0 * (out - t) / t.size"
LAYERED_WRONG = "g = 2.0 * (out - t) / len(x)"

# style 2: functions over a list of (W, b) pairs; `backward` walks the layers back in a loop, its error named
# `delta` throughout; the loss computed in the pass by the file's `mse`
PAIRS = """\
import numpy as np


def mse(pred, target):
    return np.mean(np.square(pred - target))


def forward(layers, X):
    acts = [X]
    for i, (W, b) in enumerate(layers):
        z = acts[-1] @ W + b
        acts.append(np.maximum(z, 0.0) if i < len(layers) - 1 else z)
    return acts


def backward(layers, acts, Y):
    delta = 2 * (acts[-1] - Y) / Y.shape[0]
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        W, b = layers[i]
        grads.append((acts[i].T @ delta, delta.sum(axis=0)))
        delta = (delta @ W.T) * (acts[i] > 0)
    return grads[::-1]


rs = np.random.RandomState(3)
X = rs.uniform(-1, 1, (64, 3))
Y = np.column_stack([X[:, 0] + X[:, 1], X[:, 1] * X[:, 2], np.abs(X[:, 0]), X.sum(axis=1) ** 2])
layers = [(rs.randn(3, 12) * 0.5, np.zeros(12)), (rs.randn(12, 4) * 0.3, np.zeros(4))]
for it in range(40):
    acts = forward(layers, X)
    cost = mse(acts[-1], Y)
    grads = backward(layers, acts, Y)
    for (W, b), (dW, db) in zip(layers, grads):
        W -= 0.1 * dW
        b -= 0.1 * db
print(cost)
"""

PAIRS_RIGHT = "delta = 2 * (acts[-1] - Y) / Y.shape[0]"
PAIRS_FIXED = "delta = 2 * (acts[-1] - Y) / Y.size"


def test_a_mean_over_outputs_against_a_gradient_over_the_rows_formed_in_a_loop_over_layers(tmp_path):
    for name, text, right, wrong, outputs in (
        ("layered.py", LAYERED, LAYERED_RIGHT, LAYERED_WRONG, 3),
        ("pairs.py", PAIRS.replace(PAIRS_RIGHT, PAIRS_FIXED), PAIRS_FIXED, PAIRS_RIGHT, 4),
    ):
        clean = check(planted(tmp_path / "right" / name.removesuffix(".py"), name, text, "", ""))
        assert errors(clean) == [], (name, errors(clean))
        path = planted(tmp_path / "wrong" / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path)
        (finding,) = errors(report)
        assert (finding["code"], finding["pattern"], finding["line"]) == ("BPD108", "scaled-by-outputs", line_of(path, wrong)), (name, finding)
        assert f"is {outputs} × the gradient of your loss ({outputs} is the number of outputs)" in finding["message"], finding["message"]
        assert finding["fix"] == right, finding["fix"]  # the difference's entries, not the input's (`len(x)` counts its rows)
