"""The training step of a program built on its own scalar autograd engine (micrograd's `Value`, or a
`Var` whose nodes list `(parent, local gradient)` pairs) is replayed like any other step: each
parameter's `.data` moved and the program's loss computed again. The replay copies the engine's
nodes without the graph behind them (`replay.state._copy_node`), so it costs milliseconds a run.

A correct loop is clean with every update measured right; a loop that never sets `.grad` back to
zero is named once, at its `.backward()` call (grad-not-zeroed), not again as wrong step gradients;
an update that adds the gradient (`p.data += lr * p.grad`) is named at the update line, and so is one that
steps the gradient instead of the value (`p.grad -= lr * p.grad`, update-moves-gradient)."""

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

VALUE_ENGINE = """
    import math
    import random


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

        def __pow__(self, k):
            out = Value(self.data ** k, (self,))

            def _backward():
                self.grad += k * self.data ** (k - 1) * out.grad
            out._backward = _backward
            return out

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,))

            def _backward():
                self.grad += (1 - t ** 2) * out.grad
            out._backward = _backward
            return out

        def backward(self):
            topo, visited = [], set()

            def build(v):
                if v not in visited:
                    visited.add(v)
                    for child in v._prev:
                        build(child)
                    topo.append(v)
            build(self)
            self.grad = 1.0
            for node in reversed(topo):
                node._backward()

        def __neg__(self):
            return self * -1

        def __radd__(self, other):
            return self + other

        def __sub__(self, other):
            return self + (-other)

        def __rmul__(self, other):
            return self * other


    class Neuron:
        def __init__(self, nin):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(random.uniform(-1, 1))

        def __call__(self, x):
            return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

        def parameters(self):
            return self.w + [self.b]


    class Layer:
        def __init__(self, nin, nout):
            self.neurons = [Neuron(nin) for _ in range(nout)]

        def __call__(self, x):
            outs = [n(x) for n in self.neurons]
            return outs[0] if len(outs) == 1 else outs

        def parameters(self):
            return [p for neuron in self.neurons for p in neuron.parameters()]


    class MLP:
        def __init__(self, nin, nouts):
            sizes = [nin] + nouts
            self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]


    random.seed(1337)
    n = MLP(3, [3, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    for k in range(30):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.05 * p.grad
        print(k, loss.data)
"""

VAR_SCRIPT = """
    import math
    import random


    class Var:
        def __init__(self, val, parents=()):
            self.val = val
            self.grad = 0.0
            self.parents = list(parents)  # (parent, local gradient) pairs

        def __add__(self, other):
            other = other if isinstance(other, Var) else Var(other)
            return Var(self.val + other.val, [(self, 1.0), (other, 1.0)])

        __radd__ = __add__

        def __mul__(self, other):
            other = other if isinstance(other, Var) else Var(other)
            return Var(self.val * other.val, [(self, other.val), (other, self.val)])

        __rmul__ = __mul__

        def __sub__(self, other):
            return self + other * -1.0

        def sigmoid(self):
            s = 1.0 / (1.0 + math.exp(-self.val))
            return Var(s, [(self, s * (1.0 - s))])

        def backward(self):
            order, seen = [], set()

            def visit(node):
                if id(node) not in seen:
                    seen.add(id(node))
                    for parent, _ in node.parents:
                        visit(parent)
                    order.append(node)

            visit(self)
            self.grad = 1.0
            for node in reversed(order):
                for parent, local in node.parents:
                    parent.grad += local * node.grad


    random.seed(0)
    points = [(random.uniform(-2, 2), random.uniform(-2, 2)) for _ in range(6)]
    data = [((a, b), 1.0 if a + b > 0 else 0.0) for a, b in points]
    W1 = [[Var(random.gauss(0, 1)) for _ in range(2)] for _ in range(3)]
    b1 = [Var(0.0) for _ in range(3)]
    W2 = [Var(random.gauss(0, 1)) for _ in range(3)]
    b2 = Var(0.0)
    params = [w for row in W1 for w in row] + b1 + W2 + [b2]
    lr = 0.5

    for epoch in range(40):
        total = Var(0.0)
        for (a, b), target in data:
            hidden = [(row[0] * a + row[1] * b + bias).sigmoid() for row, bias in zip(W1, b1)]
            out = (sum((w * h for w, h in zip(W2, hidden)), b2)).sigmoid()
            total = total + (out - target) * (out - target)
        cost = total * (1.0 / len(data))
        for p in params:
            p.grad = 0.0
        cost.backward()
        for p in params:
            p.val -= lr * p.grad
        if epoch % 10 == 0:
            print(epoch, cost.val)
"""

RESET = {"value": "    for p in n.parameters():\n        p.grad = 0.0\n", "var": "    for p in params:\n        p.grad = 0.0\n"}
UPDATE = {"value": ("p.data += -0.05 * p.grad", "p.data += 0.05 * p.grad"), "var": ("p.val -= lr * p.grad", "p.val += lr * p.grad")}
PROGRAMS = {"value": VALUE_ENGINE, "var": VAR_SCRIPT}


def test_a_correct_value_engine_loop_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "micrograd_ok.py", VALUE_ENGINE))
    assert errors(report) == []
    assert replayed(report)["runs"] > 0
    verdicts = step_verdicts(report)
    assert len(verdicts) == 16 and set(verdicts.values()) == {"ok"}, verdicts  # 3 * (3 + 1) + (3 + 1) weights and biases


def test_a_correct_var_script_loop_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "var_ok.py", VAR_SCRIPT))
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert len(verdicts) == 13 and set(verdicts.values()) == {"ok"}, verdicts


def _forgotten_reset(tmp_path, style):
    path = planted(tmp_path, f"{style}_nozero.py", PROGRAMS[style], RESET[style], "")
    report = check(path)
    (found,) = errors(report)  # not again as wrong step gradients: they are two passes' gradients summed
    assert (found["code"], found["line"]) == ("BPD207", line_of(path, ".backward()"))
    loop = "for k in range(30)" if style == "value" else "for epoch in range(40)"
    assert f"line {line_of(path, loop)}" in found["message"]
    assert "p.grad = 0.0" in found["message"]
    return found


def test_a_value_engine_loop_that_never_zeroes_the_gradients_is_named_once_at_its_backward(tmp_path):
    assert "n.parameters()" in _forgotten_reset(tmp_path, "value")["message"]


def test_a_var_script_loop_that_never_zeroes_the_gradients_is_named_once_at_its_backward(tmp_path):
    _forgotten_reset(tmp_path, "var")


def _ascent(tmp_path, style):
    correct, wrong = UPDATE[style]
    path = planted(tmp_path, f"{style}_ascent.py", PROGRAMS[style], correct, wrong)
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD108"]
    assert found and {f["line"] for f in found} == {line_of(path, wrong)}, errors(report)
    assert "climbs" in found[0]["message"] and "subtract" in found[0]["message"]
    assert set(step_verdicts(report).values()) == {"mismatch"}


def test_a_value_engine_update_that_adds_the_gradient_is_named_at_the_update(tmp_path):
    _ascent(tmp_path, "value")


def test_a_var_script_update_that_adds_the_gradient_is_named_at_the_update(tmp_path):
    _ascent(tmp_path, "var")


BACKWARD = {"value": "    loss.backward()\n", "var": "    cost.backward()\n"}


def _reset_after_backward(tmp_path, style):
    text = PROGRAMS[style]
    path = planted(tmp_path, f"{style}_reset_late.py", text, RESET[style] + BACKWARD[style], BACKWARD[style] + RESET[style])  # dedented by planted
    found = errors(check(path))
    reset = line_of(path, BACKWARD[style].strip()) + 1
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", reset, "reset-before-update")], found
    assert f"line {line_of(path, BACKWARD[style].strip())}" in found[0]["message"]


def test_a_value_engine_reset_between_backward_and_update_is_named_at_the_reset(tmp_path):
    _reset_after_backward(tmp_path, "value")


def test_a_var_script_reset_between_backward_and_update_is_named_at_the_reset(tmp_path):
    _reset_after_backward(tmp_path, "var")


def _gradient_stepped(tmp_path, style):
    correct, _ = UPDATE[style]
    wrong = correct.replace("p.data", "p.grad").replace("p.val", "p.grad")
    path = planted(tmp_path, f"{style}_grad_stepped.py", PROGRAMS[style], correct, wrong)
    (found,) = errors(check(path))
    assert (found["code"], found["line"], found["pattern"]) == ("BPD210", line_of(path, wrong), "gradient-stepped"), found
    assert f"`{correct}`" in found["message"]  # the fix, in the engine's own name for the number


def test_a_value_engine_loop_that_steps_the_gradient_instead_of_the_value_is_named_at_the_update(tmp_path):
    _gradient_stepped(tmp_path, "value")


def test_a_var_script_loop_that_steps_the_gradient_instead_of_the_value_is_named_at_the_update(tmp_path):
    _gradient_stepped(tmp_path, "var")
