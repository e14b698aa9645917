"""Training loops that update through an optimiser object of the file's own ("Neural Networks
from Scratch" style): `optimizer.update_params(dense1)` with plain SGD, momentum kept on the
layer (`layer.weight_momentums`), or Adam, whose step names only corrected moments.

The replay reads the gradient behind each step (`layer.dweights`) and compares it with the loss
the loop computes, so a regularisation term in the loss that the backward pass forgets is found
even though each layer's own gradient check passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from userfiles import check, errors, line_of, planted, replayed

PROGRAM = """
import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons, weight_regularizer_l2=0.0):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))
        self.weight_regularizer_l2 = weight_regularizer_l2

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Softmax_CrossEntropy:
    def forward(self, inputs, y_true):
        exp = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp / np.sum(exp, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        return np.mean(-np.log(clipped[range(len(inputs)), y_true]))

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


def regularization_loss(layer):
    return layer.weight_regularizer_l2 * np.sum(layer.weights * layer.weights)


class Optimizer_SGD:
    def __init__(self, learning_rate=1.0, momentum=0.0):
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.momentum = momentum

    def update_params(self, layer):
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = self.momentum * layer.weight_momentums - self.current_learning_rate * layer.dweights
            layer.weight_momentums = weight_updates
            bias_updates = self.momentum * layer.bias_momentums - self.current_learning_rate * layer.dbiases
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -self.current_learning_rate * layer.dweights
            bias_updates = -self.current_learning_rate * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates


class Optimizer_Adam:
    def __init__(self, learning_rate=0.02, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        self.current_learning_rate = learning_rate
        self.iterations = 0
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_momentums = self.beta_1 * layer.weight_momentums + (1 - self.beta_1) * layer.dweights
        layer.bias_momentums = self.beta_1 * layer.bias_momentums + (1 - self.beta_1) * layer.dbiases
        weight_momentums_corrected = layer.weight_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        bias_momentums_corrected = layer.bias_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        layer.weight_cache = self.beta_2 * layer.weight_cache + (1 - self.beta_2) * layer.dweights ** 2
        layer.bias_cache = self.beta_2 * layer.bias_cache + (1 - self.beta_2) * layer.dbiases ** 2
        weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
        bias_cache_corrected = layer.bias_cache / (1 - self.beta_2 ** (self.iterations + 1))
        layer.weights += -self.current_learning_rate * weight_momentums_corrected / (np.sqrt(weight_cache_corrected) + self.epsilon)
        layer.biases += -self.current_learning_rate * bias_momentums_corrected / (np.sqrt(bias_cache_corrected) + self.epsilon)

    def post_update_params(self):
        self.iterations += 1


np.random.seed(0)
X = np.random.randn(90, 2)
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
dense1 = Layer_Dense(2, 16, weight_regularizer_l2=5e-4)
activation1 = Activation_ReLU()
dense2 = Layer_Dense(16, 3)
loss_activation = Softmax_CrossEntropy()
optimizer = OPTIMIZER

for epoch in range(2001):
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    data_loss = loss_activation.forward(dense2.output, y)
    loss = data_loss + regularization_loss(dense1) + regularization_loss(dense2)
    if not epoch % 500:
        print(f"epoch: {epoch}, loss: {loss:.3f}")
    loss_activation.backward(loss_activation.output, y)
    dense2.backward(loss_activation.dinputs)
    activation1.backward(dense2.dinputs)
    dense1.backward(activation1.dinputs)
    optimizer.update_params(dense1)
    optimizer.update_params(dense2)
    if hasattr(optimizer, "post_update_params"):
        optimizer.post_update_params()
"""

OPTIMIZERS = {
    "sgd": "Optimizer_SGD(learning_rate=1.0)",
    "momentum": "Optimizer_SGD(learning_rate=0.5, momentum=0.9)",
    "adam": "Optimizer_Adam(learning_rate=0.02)",
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_an_optimiser_object_of_the_files_own_is_replayed_and_a_correct_program_gets_no_error(tmp_path: Path, optimizer: str) -> None:
    path = planted(tmp_path, "nnfs_style.py", PROGRAM, "optimizer = OPTIMIZER", f"optimizer = {OPTIMIZERS[optimizer]}")
    report = check(path)
    result = replayed(report)
    assert errors(report) == []
    assert {p["name"] for p in result["parameters"]} == {"dense1.weights", "dense1.biases", "dense2.weights", "dense2.biases"}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_regularisation_term_the_backward_forgets_is_found_through_the_optimiser(tmp_path: Path, optimizer: str) -> None:
    source = PROGRAM.replace("optimizer = OPTIMIZER", f"optimizer = {OPTIMIZERS[optimizer]}")
    path = planted(tmp_path, "nnfs_style.py", source, "        self.dweights += 2 * self.weight_regularizer_l2 * self.weights\n", "")
    report = check(path)
    found = [f for f in errors(report) if f["code"] == "BPD108"]
    assert found, errors(report)
    assert "dense1.weights" in found[0]["message"]
    updates = {i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "layer.weights += " in text}
    assert found[0]["line"] in {line_of(path, "self.dweights = np.dot"), *updates}
