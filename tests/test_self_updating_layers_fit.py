"""Layers that update themselves inside `backward_propagation(output_error, learning_rate)`, trained
one sample at a time by a network's `fit`, whose loop computes both `err += self.loss(y, output)`
and `error = self.loss_prime(y, output)`: the loss is `err`, never the derivative named `error`;
the step is replayed and a wrong derivative of the loss is named."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PROGRAM = """\
import numpy as np


class Layer:
    def __init__(self):
        self.input = None
        self.output = None

    def forward_propagation(self, input):
        raise NotImplementedError

    def backward_propagation(self, output_error, learning_rate):
        raise NotImplementedError


class FCLayer(Layer):
    def __init__(self, input_size, output_size):
        self.weights = np.random.rand(input_size, output_size) - 0.5
        self.bias = np.random.rand(1, output_size) - 0.5

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = np.dot(self.input, self.weights) + self.bias
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error)
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * output_error
        return input_error


class ActivationLayer(Layer):
    def __init__(self, activation, activation_prime):
        self.activation = activation
        self.activation_prime = activation_prime

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = self.activation(self.input)
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        return self.activation_prime(self.input) * output_error


def tanh(x):
    return np.tanh(x)


def tanh_prime(x):
    return 1 - np.tanh(x) ** 2


def mse(y_true, y_pred):
    return np.mean(np.power(y_true - y_pred, 2))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_true.size


class Network:
    def __init__(self):
        self.layers = []
        self.loss = None
        self.loss_prime = None

    def add(self, layer):
        self.layers.append(layer)

    def use(self, loss, loss_prime):
        self.loss = loss
        self.loss_prime = loss_prime

    def predict(self, input_data):
        result = []
        for i in range(len(input_data)):
            output = input_data[i]
            for layer in self.layers:
                output = layer.forward_propagation(output)
            result.append(output)
        return result

    def fit(self, x_train, y_train, epochs, learning_rate):
        samples = len(x_train)
        for i in range(epochs):
            err = 0
            for j in range(samples):
                output = x_train[j]
                for layer in self.layers:
                    output = layer.forward_propagation(output)
                err += self.loss(y_train[j], output)
                error = self.loss_prime(y_train[j], output)
                for layer in reversed(self.layers):
                    error = layer.backward_propagation(error, learning_rate)
            err /= samples
            print('epoch %d/%d   error=%f' % (i + 1, epochs, err))


x_train = np.array([[[0, 0]], [[0, 1]], [[1, 0]], [[1, 1]]])
y_train = np.array([[[0]], [[1]], [[1]], [[0]]])
net = Network()
net.add(FCLayer(2, 3))
net.add(ActivationLayer(tanh, tanh_prime))
net.add(FCLayer(3, 1))
net.add(ActivationLayer(tanh, tanh_prime))
net.use(mse, mse_prime)
net.fit(x_train, y_train, epochs=1000, learning_rate=0.1)
"""


def test_the_loss_is_the_accumulated_error_not_the_derivative(tmp_path):
    report = check(write(tmp_path, "net.py", PROGRAM))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "err"
    assert len(step["parameters"]) == 4 and not any(p["wrong"] for p in step["parameters"])


def test_a_loss_derivative_with_its_sign_flipped_is_named(tmp_path):
    """`mse_prime` is checked as `mse`'s derivative in its own right (`tests/test_loss_function_pairs.py`):
    its flipped sign is named at its line, the root of what the training step then does."""
    path = planted(tmp_path, "net.py", PROGRAM, "return 2 * (y_pred - y_true) / y_true.size", "return 2 * (y_true - y_pred) / y_true.size")
    found = errors(check(path))
    assert [(f["layer"], f["pattern"], f["line"]) for f in found] == [("mse/mse_prime", "sign-flipped", line_of(path, "return 2 * (y_true - y_pred)"))]
