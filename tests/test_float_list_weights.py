"""Neurons whose weights are plain Python lists, updated by a comprehension over their inputs.

`self.weights = [w - eta * self.delta * x for w, x in zip(self.weights, self.inputs)]` moves
each float of the list by the rate times `delta * x`. The replay used to skip these (the
elements are not arrays); each float is now a parameter of its own, found by its place in the
list, and its gradient is the comprehension's expression for it.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

NEURONS = '''\
import math
import random


class Neuron:
    def __init__(self, n_inputs):
        self.weights = [random.uniform(-1, 1) for _ in range(n_inputs)]
        self.bias = random.uniform(-1, 1)

    def forward(self, inputs):
        self.inputs = inputs
        total = sum(w * x for w, x in zip(self.weights, inputs)) + self.bias
        self.out = 1 / (1 + math.exp(-total))
        return self.out

    def backward(self, error):
        self.delta = error * self.out * (1 - self.out)
        return [self.delta * w for w in self.weights]

    def update(self, eta):
        self.weights = [w - eta * self.delta * x for w, x in zip(self.weights, self.inputs)]
        self.bias = self.bias - eta * self.delta


random.seed(4)
hidden = [Neuron(2), Neuron(2)]
output = Neuron(2)
samples = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
for epoch in range(2000):
    for inputs, target in samples:
        h = [n.forward(inputs) for n in hidden]
        y = output.forward(h)
        loss = 0.5 * (y - target) ** 2
        back = output.backward(y - target)
        for n, e in zip(hidden, back):
            n.backward(e)
        output.update(0.5)
        for n in hidden:
            n.update(0.5)
'''


def _wrong(report: dict) -> dict[str, bool]:
    return {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}


def test_float_list_weights_are_replayed_and_the_correct_program_is_clean(tmp_path):
    report = check(write(tmp_path, "neurons.py", NEURONS))
    assert errors(report) == []
    wrong = _wrong(report)
    assert {"output.weights[0]", "output.weights[1]", "hidden[0].weights[0]", "hidden[0].weights[1]"} <= set(wrong)
    assert len(wrong) == 9  # two weights and a bias for each of the three neurons
    assert {"output.bias", "hidden[0].bias"} <= set(wrong)
    assert not any(wrong.values())


def test_a_missing_sigmoid_derivative_shows_in_the_list_weights(tmp_path):
    """The neurons' `backward` runs once per neuron, so no single `self.delta` can be measured on its
    own: the weights' finding names the update's expression, `self.delta * x`, at the update's line;
    the bias, whose gradient is `self.delta` itself, is named where the backward stores it (the
    planted line)."""
    path = planted(tmp_path, "neurons.py", NEURONS, "self.delta = error * self.out * (1 - self.out)", "self.delta = error")
    report = check(path)
    wrong = _wrong(report)
    assert wrong["output.weights[0]"] and wrong["output.weights[1]"]
    found = {(f["code"], f["line"]) for f in errors(report)}
    assert found == {("BPD108", line_of(path, "self.weights = [w - eta")), ("BPD108", line_of(path, "self.delta = error"))}
    (weights,) = [f for f in errors(report) if f["line"] == line_of(path, "self.weights = [w - eta")]
    assert "use `self.delta * x`, which are not the gradients of your loss" in weights["message"]


def test_a_loop_that_only_updates_each_layer_is_not_the_training_loop(tmp_path):
    """`for n in hidden: n.update(0.5)` inside the sample loop updates the layers in turn; the step
    is the loop over the samples, which computes the loss."""
    report = check(write(tmp_path, "neurons.py", NEURONS))
    assert replayed(report)["loop_line"] == line_of(tmp_path / "neurons.py", "for inputs, target in samples:")
