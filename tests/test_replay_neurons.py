"""Networks of neuron objects holding Python lists of weights, updated one number at a time.

The step-by-step backpropagation tutorials build `Neuron` objects with a list of
float weights and update `neuron.weights[i] -= rate * gradient` inside loops
over neurons and weights, from a training loop that only calls `net.train(x, y)`
and prints the total error. Each number of each list is a parameter of the
replayed step: a correct network gets no error, a wrong hidden-layer delta is
reported on exactly the weights it feeds. Real files, real CLI.
"""

from __future__ import annotations

from userfiles import check, errors, planted, replayed, write

NEURONS = """
import math


class Neuron:
    def __init__(self, weights, bias):
        self.weights = list(weights)
        self.bias = bias

    def output(self, inputs):
        self.inputs = inputs
        total = sum(w * x for w, x in zip(self.weights, inputs)) + self.bias
        self.out = 1 / (1 + math.exp(-total))
        return self.out


class Layer:
    def __init__(self, weights, bias, size):
        per = len(weights) // size
        self.neurons = [Neuron(weights[i * per:(i + 1) * per], bias) for i in range(size)]

    def forward(self, inputs):
        return [n.output(inputs) for n in self.neurons]


class Network:
    rate = 0.5

    def __init__(self):
        self.hidden = Layer([0.15, 0.2, 0.25, 0.3, 0.1, -0.2], 0.35, 3)
        self.output = Layer([0.4, 0.45, -0.1, 0.5, 0.55, 0.2], 0.6, 2)

    def forward(self, inputs):
        return self.output.forward(self.hidden.forward(inputs))

    def total_error(self, inputs, targets):
        outputs = self.forward(inputs)
        return sum(0.5 * (t - o) ** 2 for t, o in zip(targets, outputs))

    def train(self, inputs, targets):
        self.forward(inputs)
        output_deltas = []
        for o, neuron in enumerate(self.output.neurons):
            output_deltas.append(-(targets[o] - neuron.out) * neuron.out * (1 - neuron.out))
        hidden_deltas = []
        for h, neuron in enumerate(self.hidden.neurons):
            downstream = sum(output_deltas[o] * self.output.neurons[o].weights[h] for o in range(len(self.output.neurons)))
            hidden_deltas.append(downstream * neuron.out * (1 - neuron.out))
        for o, neuron in enumerate(self.output.neurons):
            for i in range(len(neuron.weights)):
                neuron.weights[i] -= self.rate * output_deltas[o] * neuron.inputs[i]
        for h, neuron in enumerate(self.hidden.neurons):
            for i in range(len(neuron.weights)):
                neuron.weights[i] -= self.rate * hidden_deltas[h] * neuron.inputs[i]


net = Network()
for epoch in range(5000):
    net.train([0.05, 0.1], [0.01, 0.99])
    print(epoch, round(net.total_error([0.05, 0.1], [0.01, 0.99]), 9))
"""


def test_a_network_of_neuron_objects_is_replayed_weight_by_weight_and_gets_no_error(tmp_path):
    report = check(write(tmp_path, "neurons.py", NEURONS))
    assert errors(report) == []
    names = [p["name"] for p in replayed(report)["parameters"]]
    assert len(names) == 12 and "net.hidden.neurons[2].weights[1]" in names  # 3 hidden × 2 inputs, 2 outputs × 3
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_hidden_delta_that_reads_the_wrong_weight_is_reported_on_the_weights_it_feeds(tmp_path):
    path = planted(tmp_path, "neurons.py", NEURONS, "self.output.neurons[o].weights[h]", "self.output.neurons[o].weights[0]")
    report = check(path)
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    # hidden neuron 0 reads weights[0] as it should; neurons 1 and 2 read the wrong weight
    assert wrong == {f"net.hidden.neurons[{h}].weights[{i}]" for h in (1, 2) for i in (0, 1)}
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert "net.hidden.neurons[1].weights[0]" in finding["message"]
