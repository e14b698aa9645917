"""The 2016 book's network class with its two methods called otherwise.

The book's `neuralNetwork` trains one sample in `train(inputs_list, targets_list)`, computing its
forward pass in locals and updating `self.wih`/`self.who` itself, and answers in
`query(inputs_list)`. Readers rename both (`learn`/`ask`, `practise`/`think`), and the answering
method may run the layers through a helper of the class. The loss the training method's output
error implies is the squared error of that answering method, found by what it does (one input, a
value returned, every weight the training method moves read, nothing stored), not by its name.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

RENAMED = '''\
import numpy as np


class neuralNetwork:
    def __init__(self, inputnodes, hiddennodes, outputnodes, learningrate):
        self.inodes, self.hnodes, self.onodes = inputnodes, hiddennodes, outputnodes
        self.wih = np.random.normal(0.0, pow(self.inodes, -0.5), (self.hnodes, self.inodes))
        self.who = np.random.normal(0.0, pow(self.hnodes, -0.5), (self.onodes, self.hnodes))
        self.lr = learningrate
        self.activation_function = lambda x: 1.0 / (1.0 + np.exp(-x))

    def learn(self, inputs_list, targets_list):
        inputs = np.array(inputs_list, ndmin=2).T
        targets = np.array(targets_list, ndmin=2).T
        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))
        final_outputs = self.activation_function(np.dot(self.who, hidden_outputs))
        output_errors = targets - final_outputs
        output_delta = output_errors * final_outputs * (1.0 - final_outputs)
        hidden_errors = np.dot(self.who.T, output_delta)
        self.who += self.lr * np.dot(output_delta, hidden_outputs.T)
        self.wih += self.lr * np.dot(hidden_errors * hidden_outputs * (1.0 - hidden_outputs), inputs.T)

    def ask(self, inputs_list):
        inputs = np.array(inputs_list, ndmin=2).T
        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))
        return self.activation_function(np.dot(self.who, hidden_outputs))


np.random.seed(1)
samples = np.random.rand(200, 6) * 0.98 + 0.01
labels = (samples[:, 0] > samples[:, 1]).astype(int)
n = neuralNetwork(6, 8, 2, 0.3)
for epoch in range(5):
    for x, label in zip(samples, labels):
        targets = np.zeros(2) + 0.01
        targets[label] = 0.99
        n.learn(x, targets)
print(np.mean([np.argmax(n.ask(x)) == l for x, l in zip(samples, labels)]))
'''

# the answer computed through a helper of the class, under two other names
THROUGH_A_HELPER = (
    RENAMED.replace("def learn(", "def practise(").replace("n.learn(", "n.practise(")
    .replace(
        "    def ask(self, inputs_list):\n"
        "        inputs = np.array(inputs_list, ndmin=2).T\n"
        "        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))\n"
        "        return self.activation_function(np.dot(self.who, hidden_outputs))\n",
        "    def think(self, inputs_list):\n"
        "        return self.layers(np.array(inputs_list, ndmin=2).T)[1]\n"
        "\n"
        "    def layers(self, inputs):\n"
        "        hidden_outputs = self.activation_function(np.dot(self.wih, inputs))\n"
        "        return hidden_outputs, self.activation_function(np.dot(self.who, hidden_outputs))\n",
    )
    .replace("n.ask(", "n.think(")
)

# the book's own shortcut: the hidden errors split the output errors, not the output delta
SHORTCUT = ("hidden_errors = np.dot(self.who.T, output_delta)", "hidden_errors = np.dot(self.who.T, output_errors)")


def test_learn_and_ask_are_replayed_against_the_squared_error_of_ask(tmp_path):
    report = check(write(tmp_path, "network.py", RENAMED))
    assert errors(report) == [], errors(report)
    result = replayed(report)
    assert result["loss"] == "0.5·Σ(n.ask(x) − np.array(targets, ndmin=2).T)²"
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("n.who", False), ("n.wih", False)]


def test_the_hidden_errors_shortcut_under_learn_is_named_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "network.py", RENAMED, *SHORTCUT)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "n.wih", line_of(path, SHORTCUT[1])), finding


def test_an_answer_through_a_helper_method_is_found_whatever_it_is_called(tmp_path):
    assert "def think(" in THROUGH_A_HELPER and "n.practise(" in THROUGH_A_HELPER
    result = replayed(check(write(tmp_path, "network.py", THROUGH_A_HELPER)))
    assert result["loss"] == "0.5·Σ(n.think(x) − np.array(targets, ndmin=2).T)²"
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("n.who", False), ("n.wih", False)]
    path = planted(tmp_path, "wrong.py", THROUGH_A_HELPER, "hidden_outputs * (1.0 - hidden_outputs)", "hidden_outputs * (1.0 + hidden_outputs)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"]) == ("BPD108", "n.wih"), finding
    assert "hidden_outputs * (1.0 + hidden_outputs)" in finding["message"] and "n.think(x)" in finding["message"], finding
