"""Objects the program ran whose backward takes a second argument its convention explains.

`backward(output_gradient, learning_rate)` that applies the update itself (trained one
column at a time), an NNFS loss's `backward(dvalues, y_true)`, an LSTM cell's
`backward(dh_next, dc_next)` (one upstream gradient per output of forward): the observed
run checks them on the inputs the program gave them, called as their convention says. A
model whose `backward(label)` starts from the target is named as not checked, never called
with an upstream gradient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

XOR = '''\
import numpy as np


class Dense:
    def __init__(self, input_size, output_size):
        self.weights = np.random.randn(output_size, input_size)
        self.bias = np.random.randn(output_size, 1)

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return input_gradient


class Tanh:
    def forward(self, input):
        self.input = input
        return np.tanh(input)

    def backward(self, output_gradient, learning_rate):
        return np.multiply(output_gradient, 1 - np.tanh(self.input) ** 2)


def mse(y_true, y_pred):
    return np.mean(np.power(y_true - y_pred, 2))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / np.size(y_true)


X = np.reshape([[0, 0], [0, 1], [1, 0], [1, 1]], (4, 2, 1))
Y = np.reshape([[0], [1], [1], [0]], (4, 1, 1))

network = [Dense(2, 3), Tanh(), Dense(3, 1), Tanh()]

for epoch in range(50):
    error = 0
    for x, y in zip(X, Y):
        output = x
        for layer in network:
            output = layer.forward(output)
        error += mse(y, output)
        grad = mse_prime(y, output)
        for layer in reversed(network):
            grad = layer.backward(grad, 0.1)
'''

NNFS = '''\
import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Softmax:
    def forward(self, inputs):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            single_output = single_output.reshape(-1, 1)
            jacobian = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian, single_dvalues)


class Loss_CategoricalCrossentropy:
    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        correct_confidences = y_pred_clipped[range(samples), y_true]
        return -np.log(correct_confidences)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        labels = len(dvalues[0])
        y_true = np.eye(labels)[y_true]
        self.dinputs = -y_true / dvalues
        self.dinputs = self.dinputs / samples


X = np.random.randn(60, 2)
y = (X[:, 0] * X[:, 1] > 0).astype(int)

dense1 = Layer_Dense(2, 16)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(16, 2)
activation2 = Activation_Softmax()
loss_function = Loss_CategoricalCrossentropy()

for epoch in range(20):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    activation2.forward(dense2.output)
    loss = np.mean(loss_function.forward(activation2.output, y))
    loss_function.backward(activation2.output, y)
    activation2.backward(loss_function.dinputs)
    dense2.backward(activation2.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    for layer in (dense1, dense2):
        layer.weights -= 0.5 * layer.dweights
        layer.biases -= 0.5 * layer.dbiases
'''

CLASSIFIER = '''\
import numpy as np


class Cell:
    def __init__(self, d, h):
        self.Wx = 0.1 * np.random.randn(4 * h, d)
        self.Wh = 0.1 * np.random.randn(4 * h, h)
        self.h = h

    def forward(self, x, h_prev, c_prev):
        z = self.Wx @ x + self.Wh @ h_prev
        H = self.h
        f, i, o = (1 / (1 + np.exp(-z[k * H:(k + 1) * H])) for k in range(3))
        g = np.tanh(z[3 * H:])
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        self.cache = (x, h_prev, c_prev, f, i, o, g, c)
        return h, c

    def backward(self, dh, dc):
        x, h_prev, c_prev, f, i, o, g, c = self.cache
        tc = np.tanh(c)
        dc = dc + dh * o * (1 - tc ** 2)
        dz = np.concatenate([dc * c_prev * f * (1 - f), dc * g * i * (1 - i), dh * tc * o * (1 - o), dc * i * (1 - g ** 2)])
        self.dWx = np.outer(dz, x)
        self.dWh = np.outer(dz, h_prev)
        return self.Wx.T @ dz, self.Wh.T @ dz, dc * f


class Classifier:
    def __init__(self, vocab, d, h, classes):
        self.E = 0.1 * np.random.randn(vocab, d)
        self.cell = Cell(d, h)
        self.Wout = 0.1 * np.random.randn(classes, h)

    def forward(self, seq):
        h = np.zeros(self.cell.h)
        c = np.zeros(self.cell.h)
        for token in seq:
            h, c = self.cell.forward(self.E[token], h, c)
        self.h = h
        logits = self.Wout @ h
        e = np.exp(logits - logits.max())
        self.probs = e / e.sum()
        return self.probs

    def backward(self, label):
        dlogits = self.probs.copy()
        dlogits[label] -= 1
        self.dWout = np.outer(dlogits, self.h)
        return -np.log(self.probs[label])


model = Classifier(20, 5, 6, 3)
rng = np.random.default_rng(0)
for step in range(3):
    seq = rng.integers(0, 20, 4)
    model.forward(seq)
    model.backward(int(seq[0]) % 3)
'''


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def observed(report: dict, name: str) -> list[dict]:
    return [b for b in report["built"] if b["what"].startswith(name) and b["origin"] == "observed"]


def test_layers_that_update_in_backward_are_checked_on_the_columns_the_program_fed_them(tmp_path):
    path = tmp_path / "xor.py"
    path.write_text(XOR, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    for name in ("Dense", "Tanh"):
        assert observed(report, name) and all(b["skipped"] is None for b in observed(report, name)), report["built"]
    assert "input (2, 1)" in observed(report, "Dense")[0]["shapes"]


def test_a_wrong_derivative_in_a_backward_that_takes_the_learning_rate_is_reported(tmp_path):
    right = "        return np.multiply(output_gradient, 1 - np.tanh(self.input) ** 2)"
    assert right in XOR
    path = tmp_path / "xor.py"
    path.write_text(XOR.replace(right, "        return np.multiply(output_gradient, 1 - np.tanh(self.input))  # BUG: not squared"), encoding="utf-8")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD101"]
    assert found and "`Tanh`" in found[0]["message"], report["findings"]
    assert found[0]["line"] == XOR.splitlines().index(right) + 1


def test_an_nnfs_loss_whose_backward_takes_the_labels_is_checked_on_the_programs_batch(tmp_path):
    path = tmp_path / "nnfs_net.py"
    path.write_text(NNFS, encoding="utf-8")
    report = check(path)
    assert errors(report) == [], errors(report)
    loss = observed(report, "Loss_CategoricalCrossentropy")
    assert loss and loss[0]["skipped"] is None and "t (60,)" in loss[0]["shapes"], report["built"]


def test_an_nnfs_loss_divided_by_the_number_of_classes_is_reported(tmp_path):
    right = "        self.dinputs = self.dinputs / samples"
    assert right in NNFS
    path = tmp_path / "nnfs_net.py"
    path.write_text(NNFS.replace(right, "        self.dinputs = self.dinputs / labels  # BUG"), encoding="utf-8")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD101"]
    assert found and "Loss_CategoricalCrossentropy" in found[0]["message"], report["findings"]


def test_a_cell_with_two_upstream_gradients_is_checked_and_a_backward_from_the_label_is_named(tmp_path):
    path = tmp_path / "classifier.py"
    path.write_text(CLASSIFIER, encoding="utf-8")
    report = check(path)
    assert not [f for f in errors(report) if f["code"] in ("BPD101", "BPD105")], report["findings"]
    cell = observed(report, "Cell")
    assert cell and cell[0]["skipped"] is None and "x (5,)" in cell[0]["shapes"], report["built"]
    model = [b for b in report["built"] if b["what"] == "Classifier"]
    assert model and "backward(label) starts from the target" in model[0]["skipped"], report["built"]
