"""The replay's copies of a step's state (`replay.state.State`) over a scalar autograd engine: the
nodes left from the pass before (a `loss` with its whole graph) are copied without that graph, the
parameters (leaves) are copied whole, and nothing a replay does to a copy reaches the program's own
nodes, which stay bit-identical. Two engine styles: micrograd's `_prev` set with `_backward`
closures, and a node that lists `(parent, local gradient)` pairs."""

import math
import struct

from backprop_doctor.replay.state import State, graph_node_class


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


class Var:
    def __init__(self, val, parents=()):
        self.val = val
        self.grad = 0.0
        self.parents = list(parents)

    def __mul__(self, other):
        return Var(self.val * other.val, [(self, other.val), (other, self.val)])

    def __add__(self, other):
        return Var(self.val + other.val, [(self, 1.0), (other, 1.0)])

    def backward(self):
        self.grad = 1.0
        stack = [self]
        while stack:
            node = stack.pop()
            for parent, local in node.parents:
                parent.grad += local * node.grad
                stack.append(parent)


class Neuron:
    def __init__(self, ws):
        self.w = [Value(w) for w in ws]
        self.b = Value(0.1)

    def __call__(self, x):
        return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()


def _bits(nodes, number):
    return [struct.pack("<dd", getattr(v, number), v.grad) for v in nodes]


def _graph(root, edges):
    seen, todo = {}, [root]
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            todo += [e[0] if isinstance(e, tuple) else e for e in getattr(node, edges)]
    return list(seen.values())


def test_only_engine_classes_are_graph_nodes():
    assert graph_node_class(Value) and graph_node_class(Var)
    assert not graph_node_class(Neuron) and not graph_node_class(float) and not graph_node_class(list)


def test_a_value_loss_left_from_the_pass_before_is_copied_without_its_graph_and_the_program_keeps_its_bits():
    neuron = Neuron([0.5, -0.3, 0.8])
    loss = neuron([1.0, 2.0, -1.0]) * neuron([0.5, -1.0, 2.0])
    loss.backward()  # the pass before: every node holds a gradient
    before = _bits(_graph(loss, "_prev"), "data")
    state = State.take({"neuron": neuron, "loss": loss, "Value": Value, "Neuron": Neuron})
    assert Value in state.nodes
    for _ in range(3):
        copy = state.fresh()
        assert copy["loss"]._prev == set() and copy["loss"].data == loss.data  # its number, not its graph
        leaf = copy["neuron"].w[0]
        assert leaf is not neuron.w[0] and leaf.data == neuron.w[0].data and leaf.grad == neuron.w[0].grad
        for p in [*copy["neuron"].w, copy["neuron"].b]:
            p.grad = 0.0
        again = copy["neuron"]([1.0, 2.0, -1.0]) * copy["neuron"]([0.5, -1.0, 2.0])
        again.backward()
        copy["loss"]._backward()  # the left-over node's closure is a no-op: it reaches nothing of the program's
        for p in [*copy["neuron"].w, copy["neuron"].b]:
            p.data -= 0.1 * p.grad
        assert again.data == loss.data  # the copy computes the program's own loss again
    assert _bits(_graph(loss, "_prev"), "data") == before
    assert state.paths[id(neuron.w[2])] == (("name", "neuron"), ("attr", "w"), ("item", 2))


def test_a_var_graph_with_parent_pairs_is_copied_without_its_graph_and_the_program_keeps_its_bits():
    weights = [Var(0.4), Var(-1.2)]
    x = [Var(2.0), Var(0.5)]
    cost = (weights[0] * x[0] + weights[1] * x[1]) * (weights[0] * x[0])
    cost.backward()
    before = _bits(_graph(cost, "parents"), "val")
    state = State.take({"weights": weights, "x": x, "cost": cost, "Var": Var})
    copy = state.fresh()
    assert copy["cost"].parents == [] and copy["cost"].val == cost.val
    for w in copy["weights"]:
        w.grad = 7.0
        w.val += 1.0
    copy["cost"].backward()
    assert _bits(_graph(cost, "parents"), "val") == before
    assert [w.val for w in state.fresh()["weights"]] == [0.4, -1.2]
