"""Layers in the style of the nnfs book's last chapters: `forward(self, inputs, training)` keeps
`self.output`, `backward(self, dvalues)` keeps the input's gradient in an attribute and returns
nothing. The model calls every layer with its training flag positionally (`layer.forward(x, True)`),
and some copies spell the attribute in camel case (`self.dInputs`, `self.dWeights`).

Such a layer was skipped ("its forward also needs arguments that are not arrays"), or, beside a
model that ran it, its backward was reported as returning None (a false BPD107 error on every
layer), or its input gradient was never compared though the report said the layer was checked.
Each layer is now checked, its flag passed by name; a wrong derivative is named at its line, and
the correct twins stay clean. Real CLI, in a subprocess."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = '''\
import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.DW = np.dot(self.inputs.T, dvalues)
        self.DB = np.sum(dvalues, axis=0, keepdims=True)
        self.dINPUTS = np.dot(dvalues, self.weights.T)


class Activation_Sigmoid:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-inputs))

    def backward(self, dvalues):
        self.dINPUTS = dvalues * (1 - self.output) * self.output


class Activation_ReLU:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dINPUTS = dvalues.copy()
        self.dINPUTS[self.inputs <= 0] = 0


class Layer_Dropout:
    def __init__(self, rate):
        self.rate = 1 - rate

    def forward(self, inputs, training):
        self.inputs = inputs
        if not training:
            self.output = inputs.copy()
            return
        self.binary_mask = np.random.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues):
        self.dINPUTS = dvalues * self.binary_mask


class Model:
    def __init__(self):
        self.layers = []

    def add(self, layer):
        self.layers.append(layer)

    def forward(self, X, training):
        out = X
        for layer in self.layers:
            layer.forward(out, training)
            out = layer.output
        return out

    def backward(self, dvalues):
        for layer in reversed(self.layers):
            layer.backward(dvalues)
            dvalues = layer.dINPUTS


np.random.seed(0)
X = np.random.randn(60, 3)
y = (X[:, :1] > 0).astype(float)
model = Model()
model.add(Layer_Dense(3, 16))
model.add(Activation_ReLU())
model.add(Layer_Dropout(0.1))
model.add(Layer_Dense(16, 1))
model.add(Activation_Sigmoid())
for epoch in range(200):
    out = model.forward(X, training=True)
    clipped = np.clip(out, 1e-7, 1 - 1e-7)
    loss = -np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    model.backward(-(y / clipped - (1 - y) / (1 - clipped)) / len(X))
    for layer in model.layers:
        if hasattr(layer, "weights"):
            layer.weights -= 0.5 * layer.DW
            layer.biases -= 0.5 * layer.DB
    if epoch % 50 == 0:
        print(epoch, loss)
'''

SPELLINGS = {"camel": ("dInputs", "dWeights", "dBiases"), "upper": ("dINPUTS", "DW", "DB")}


def _spelled(style: str) -> str:
    dx, dw, db = SPELLINGS[style]
    return LAYERS.replace("dINPUTS", dx).replace("self.DW", f"self.{dw}").replace("layer.DW", f"layer.{dw}").replace(
        "self.DB", f"self.{db}").replace("layer.DB", f"layer.{db}")  # fmt: skip


def _measured(report: dict) -> set[tuple[str, str]]:
    return {(m["layer"], m["param"]) for m in report["measurements"]}


@pytest.mark.parametrize("style", ["camel", "upper"])
def test_nnfs_layers_with_a_training_flag_are_each_checked_and_clean(tmp_path, style):
    report = check(write(tmp_path, "nnfs_model.py", _spelled(style)))
    assert errors(report) == [], errors(report)
    assert [f for f in report["findings"] if f["severity"] == "warning"] == []
    measured = _measured(report)
    assert {("Activation_ReLU", "x"), ("Activation_Sigmoid", "x"), ("Layer_Dense", "x")} <= measured, measured


def test_nnfs_sigmoid_derivative_of_its_input_is_named_at_its_line(tmp_path):
    source = _spelled("camel")
    right = "self.dInputs = dvalues * (1 - self.output) * self.output"
    wrong = "self.dInputs = dvalues * (1 - self.inputs) * self.inputs"
    path = planted(tmp_path, "nnfs_model.py", source, right, wrong)
    report = check(path)
    bad = [f for f in errors(report) if f["layer"] and f["layer"].startswith("Activation_Sigmoid")]
    assert bad and bad[0]["line"] == line_of(path, wrong), errors(report)


def test_nnfs_relu_mask_reversed_is_named_at_its_line(tmp_path):
    source = _spelled("upper")
    right = "self.dINPUTS[self.inputs <= 0] = 0"
    wrong = "self.dINPUTS[self.inputs > 0] = 0"
    path = planted(tmp_path, "nnfs_model.py", source, right, wrong)
    report = check(path)
    bad = [f for f in errors(report) if f["layer"] and f["layer"].startswith("Activation_ReLU")]
    assert bad and bad[0]["line"] == line_of(path, wrong), errors(report)
