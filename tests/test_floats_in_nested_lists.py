"""Pure-Python networks whose weights are floats in lists, held in dicts inside lists, or in neuron objects.

The most copied from-scratch tutorial keeps a network as a list of layers, each a list of neuron
dicts (`{'weights': [...], 'output': ..., 'delta': ...}`), computes with `math.exp` one float at a
time, and updates `neuron['weights'][j] -= rate * neuron['delta'] * inputs[j]` inside a function the
training loop calls, reporting a running sum of squared errors. Another style holds the same numbers
in `Neuron` objects (`self.weights` a list, `self.bias` a float). Each float is a parameter of the
replayed step, found through its path (`net[0][1]['weights'][2]`); the transfer function and its
derivative, written for one float, are checked element by element. A correct program is clean; a
flipped error sign, a wrong derivative and a doubled hidden delta are each named at their line.
Real files, real CLI.
"""

from __future__ import annotations

import copy

from userfiles import check, errors, line_of, planted, replayed, write

DICTS = """
import math
import random


def make_layer(n_in, n_out):
    return [{'weights': [random.uniform(-0.5, 0.5) for _ in range(n_in + 1)]} for _ in range(n_out)]


def squash(value):
    return 1.0 / (1.0 + math.exp(-value))


def squash_derivative(out):
    return out * (1.0 - out)


def feed(net, sample):
    signal = sample
    for layer in net:
        following = []
        for unit in layer:
            total = unit['weights'][-1]
            for k in range(len(unit['weights']) - 1):
                total += unit['weights'][k] * signal[k]
            unit['output'] = squash(total)
            following.append(unit['output'])
        signal = following
    return signal


def send_back(net, wanted):
    for depth in reversed(range(len(net))):
        layer = net[depth]
        if depth == len(net) - 1:
            errs = [unit['output'] - wanted[k] for k, unit in enumerate(layer)]
        else:
            errs = []
            for k in range(len(layer)):
                errs.append(sum(up['weights'][k] * up['delta'] for up in net[depth + 1]))
        for k, unit in enumerate(layer):
            unit['delta'] = errs[k] * squash_derivative(unit['output'])


def adjust(net, sample, rate):
    for depth, layer in enumerate(net):
        signal = sample[:-1] if depth == 0 else [unit['output'] for unit in net[depth - 1]]
        for unit in layer:
            for k in range(len(signal)):
                unit['weights'][k] -= rate * unit['delta'] * signal[k]
            unit['weights'][-1] -= rate * unit['delta']


def fit(net, rows, rate, epochs, n_classes):
    for epoch in range(epochs):
        total = 0.0
        for sample in rows:
            got = feed(net, sample)
            wanted = [0.0] * n_classes
            wanted[int(sample[-1])] = 1.0
            total += sum((wanted[k] - got[k]) ** 2 for k in range(n_classes))
            send_back(net, wanted)
            adjust(net, sample, rate)
        print(epoch, round(total, 4))


random.seed(2)
rows = [[0.2, 1.1, 0], [0.5, 0.9, 0], [0.1, 1.4, 0], [1.6, 0.3, 1], [1.2, 0.2, 1], [1.9, 0.6, 1]]
net = [make_layer(2, 3), make_layer(3, 2)]
fit(net, rows, 0.4, 30, 2)
"""

NEURONS = """
import math
import random


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def sigmoid_derivative(s):
    return s * (1.0 - s)


class Neuron:
    def __init__(self, n_inputs, rng):
        self.weights = [rng.uniform(-1.0, 1.0) for _ in range(n_inputs)]
        self.bias = rng.uniform(-1.0, 1.0)
        self.output = 0.0
        self.delta = 0.0

    def fire(self, inputs):
        total = self.bias
        for w, x in zip(self.weights, inputs):
            total += w * x
        self.output = sigmoid(total)
        return self.output


class Network:
    def __init__(self, sizes, seed=3):
        rng = random.Random(seed)
        self.layers = [[Neuron(sizes[k], rng) for _ in range(sizes[k + 1])] for k in range(len(sizes) - 1)]

    def forward(self, inputs):
        self.inputs = [list(inputs)]
        for layer in self.layers:
            inputs = [neuron.fire(inputs) for neuron in layer]
            self.inputs.append(inputs)
        return inputs

    def backward(self, targets):
        for neuron, target in zip(self.layers[-1], targets):
            neuron.delta = (neuron.output - target) * sigmoid_derivative(neuron.output)
        for k in range(len(self.layers) - 2, -1, -1):
            for j, neuron in enumerate(self.layers[k]):
                downstream = sum(after.weights[j] * after.delta for after in self.layers[k + 1])
                neuron.delta = downstream * sigmoid_derivative(neuron.output)

    def step(self, rate):
        for k, layer in enumerate(self.layers):
            inputs = self.inputs[k]
            for neuron in layer:
                for i in range(len(neuron.weights)):
                    neuron.weights[i] -= rate * neuron.delta * inputs[i]
                neuron.bias -= rate * neuron.delta


data = [([0.0, 0.0], [0.0]), ([0.0, 1.0], [1.0]), ([1.0, 0.0], [1.0]), ([1.0, 1.0], [0.0])]
net = Network([2, 3, 1])
for epoch in range(300):
    total_error = 0.0
    for x, y in data:
        out = net.forward(x)
        total_error += sum(0.5 * (t - o) ** 2 for t, o in zip(y, out))
        net.backward(y)
        net.step(0.5)
    if epoch % 100 == 0:
        print(epoch, total_error)
"""


def _step_errors(report: dict) -> list[dict]:
    return [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]


def test_the_neuron_dicts_written_right_are_replayed_float_by_float_and_clean(tmp_path):
    report = check(write(tmp_path, "dicts.py", DICTS))
    assert errors(report) == []
    names = [p["name"] for p in replayed(report)["parameters"]]
    # 3 hidden units × (2 inputs + bias), 2 outputs × (3 + bias): each float a parameter, by its path
    assert len(names) == 17 and "net[0][2]['weights'][1]" in names and "net[1][0]['weights'][-1]" in names
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_the_float_transfer_pair_is_checked_element_by_element(tmp_path):
    report = check(write(tmp_path, "dicts.py", DICTS))
    (built,) = [b for b in report["built"] if b["what"] == "squash/squash_derivative"]
    assert built["skipped"] is None and built["shapes"].startswith("x (")
    assert any(m["layer"] == "squash/squash_derivative" and m["verdict"] == "ok" for m in report["measurements"])


def test_a_flipped_output_error_is_a_sign_flip_of_every_update(tmp_path):
    path = planted(tmp_path, "dicts.py", DICTS, "unit['output'] - wanted[k]", "wanted[k] - unit['output']")
    report = check(path)
    found = _step_errors(report)
    assert found and all(f["pattern"] == "sign-flipped" for f in found)
    # one finding, at the error the backward starts from, written target minus output, with its fix
    (finding,) = found
    assert finding["line"] == line_of(path, "errs = [wanted[k]")
    assert "write `unit['output'] - wanted[k]`" in finding["message"]
    assert all(p["wrong"] for p in replayed(report)["parameters"])


def test_a_wrong_float_derivative_is_named_in_its_body(tmp_path):
    path = planted(tmp_path, "dicts.py", DICTS, "return out * (1.0 - out)", "return out * (1.0 + out)")
    report = check(path)
    assert report["root_cause"] is not None
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, "return out * (1.0 + out)")


def test_neuron_objects_with_a_float_bias_written_right_are_clean(tmp_path):
    report = check(write(tmp_path, "neurons.py", NEURONS))
    assert errors(report) == []
    names = {p["name"] for p in replayed(report)["parameters"]}
    assert {"net.layers[0][2].weights[1]", "net.layers[0][2].bias", "net.layers[1][0].bias"} <= names


def test_a_wrong_derivative_of_neuron_objects_is_named_in_its_body(tmp_path):
    path = planted(tmp_path, "neurons.py", NEURONS, "return s * (1.0 - s)", "return s * (1.0 + s)")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, "return s * (1.0 + s)")


def test_a_target_minus_output_error_of_neuron_objects_is_named_where_it_is_written(tmp_path):
    path = planted(tmp_path, "neurons.py", NEURONS, "(neuron.output - target) *", "(target - neuron.output) *")
    report = check(path)
    found = _step_errors(report)
    assert found and all(f["pattern"] == "sign-flipped" for f in found)
    (finding,) = found
    assert finding["line"] == line_of(path, "(target - neuron.output) *") and "write `neuron.output - target`" in finding["message"]


def test_a_doubled_hidden_delta_is_a_factor_of_two_on_the_hidden_updates_only(tmp_path):
    path = planted(
        tmp_path, "neurons.py", NEURONS,
        "neuron.delta = downstream * sigmoid_derivative(neuron.output)",
        "neuron.delta = 2.0 * downstream * sigmoid_derivative(neuron.output)",
    )  # fmt: skip
    report = check(path)
    found = _step_errors(report)
    assert found and all(f["pattern"] == "factor-of-two" for f in found)
    assert {f["line"] for f in found} <= {line_of(path, "neuron.weights[i] -= rate"), line_of(path, "neuron.bias -= rate"), line_of(path, "neuron.delta = 2.0 *")}
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong and all(name.startswith("net.layers[0]") for name in wrong)


def test_the_state_indexes_each_list_of_floats_and_leaves_the_users_network_unchanged():
    from backprop_doctor.replay.state import State, describe, resolve

    net = [[{"weights": [0.1, -0.2, 0.3], "output": 0.5, "delta": 0.01}], [{"weights": [0.4, 0.6], "output": 0.7}]]
    before = copy.deepcopy(net)
    state = State.take({"net": net, "rate": 0.5})
    paths = {describe(p) for p in state.paths.values()}
    assert {"net[0][0]['weights']", "net[1][0]['weights']"} <= paths
    fresh = state.fresh()
    path = state.paths[id(net[0][0]["weights"])]
    resolve(fresh, path)[1] -= 1.0  # a replay moves its copy's float
    fresh["net"][1][0]["delta"] = 3.0
    assert net == before
    assert resolve(state.fresh(), path) == [0.1, -0.2, 0.3]


def _ascending_twin(tmp_path):
    """The same network written the other common way: the error as `wanted - output`, added to the weights."""
    source = DICTS.replace("unit['output'] - wanted[k]", "wanted[k] - unit['output']")
    source = source.replace("unit['weights'][k] -= rate", "unit['weights'][k] += rate").replace("unit['weights'][-1] -= rate", "unit['weights'][-1] += rate")
    return source


def test_the_error_written_as_target_minus_output_and_added_is_clean(tmp_path):
    report = check(write(tmp_path, "dicts.py", _ascending_twin(tmp_path)))
    assert errors(report) == []
    assert not any(p["wrong"] for p in replayed(report)["parameters"])


def test_a_bias_subtracted_where_the_weights_add_is_named_at_its_update(tmp_path):
    path = write(tmp_path, "dicts.py", _ascending_twin(tmp_path).replace("unit['weights'][-1] += rate", "unit['weights'][-1] -= rate"))
    report = check(path)
    (found,) = _step_errors(report)
    assert found["pattern"] == "update-sign-flipped" and found["line"] == line_of(path, "unit['weights'][-1] -= rate")
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {f"net[{i}][{k}]['weights'][-1]" for i, n in ((0, 3), (1, 2)) for k in range(n)}
