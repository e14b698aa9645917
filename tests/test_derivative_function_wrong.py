"""An activation layer that is handed its function and that function's derivative (`Tanh` passing
two closures to a generic `Activation`, `ActivationLayer(sigmoid, sigmoid_prime)`): where the
derivative is wrong, the verdict names the derivative's `return`, not the generic backward that
multiplies by it, which is right as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# Closures defined in a subclass's constructor, layers in a list, one sample at a time (column vectors).
CLOSURES = """\
    import numpy as np


    class Layer:
        def forward(self, input):
            raise NotImplementedError

        def backward(self, output_gradient, learning_rate):
            raise NotImplementedError


    class Dense(Layer):
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


    class Activation(Layer):
        def __init__(self, activation, activation_prime):
            self.activation = activation
            self.activation_prime = activation_prime

        def forward(self, input):
            self.input = input
            return self.activation(self.input)

        def backward(self, output_gradient, learning_rate):
            return np.multiply(output_gradient, self.activation_prime(self.input))


    class Tanh(Activation):
        def __init__(self):
            def tanh(x):
                return np.tanh(x)

            def tanh_prime(x):
                return 1 - np.tanh(x) ** 2

            super().__init__(tanh, tanh_prime)


    def mse(y_true, y_pred):
        return np.mean(np.power(y_true - y_pred, 2))


    def mse_prime(y_true, y_pred):
        return 2 * (y_pred - y_true) / np.size(y_true)


    X = np.reshape([[0, 0], [0, 1], [1, 0], [1, 1]], (4, 2, 1))
    Y = np.reshape([[0], [1], [1], [0]], (4, 1, 1))
    network = [Dense(2, 3), Tanh(), Dense(3, 1), Tanh()]

    for epoch in range(2000):
        error = 0
        for x, y in zip(X, Y):
            output = x
            for layer in network:
                output = layer.forward(output)
            error += mse(y, output)
            grad = mse_prime(y, output)
            for layer in reversed(network):
                grad = layer.backward(grad, 0.1)
        if epoch % 500 == 0:
            print(epoch, error / len(X))
"""

# Module functions handed to a generic layer, row vectors, a `Network` with add/use/fit; Japanese comments.
HANDED = """\
    import numpy as np


    class FCLayer:
        def __init__(self, input_size, output_size):
            self.weights = np.random.rand(input_size, output_size) - 0.5
            self.bias = np.random.rand(1, output_size) - 0.5

        def forward_propagation(self, input_data):
            self.input = input_data
            return np.dot(self.input, self.weights) + self.bias

        def backward_propagation(self, output_error, learning_rate):
            input_error = np.dot(output_error, self.weights.T)
            weights_error = np.dot(self.input.T, output_error)
            self.weights -= learning_rate * weights_error
            self.bias -= learning_rate * output_error
            return input_error


    class ActivationLayer:
        # 活性化関数とその導関数を受け取る
        def __init__(self, activation, activation_prime):
            self.activation = activation
            self.activation_prime = activation_prime

        def forward_propagation(self, input_data):
            self.input = input_data
            self.output = self.activation(self.input)
            return self.output

        def backward_propagation(self, output_error, learning_rate):
            return self.activation_prime(self.input) * output_error


    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))


    def dsigmoid(x):
        s = sigmoid(x)
        return s * (1 - s)


    def mse(y_true, y_pred):
        return np.mean(np.power(y_true - y_pred, 2))


    def mse_prime(y_true, y_pred):
        return 2 * (y_pred - y_true) / y_true.size


    class Network:
        def __init__(self):
            self.layers = []

        def add(self, layer):
            self.layers.append(layer)

        def use(self, loss, loss_prime):
            self.loss, self.loss_prime = loss, loss_prime

        def fit(self, x_train, y_train, epochs, learning_rate):
            for i in range(epochs):
                err = 0
                for j in range(len(x_train)):
                    output = x_train[j]
                    for layer in self.layers:
                        output = layer.forward_propagation(output)
                    err += self.loss(y_train[j], output)
                    error = self.loss_prime(y_train[j], output)
                    for layer in reversed(self.layers):
                        error = layer.backward_propagation(error, learning_rate)
                if i % 100 == 0:
                    print("epoch", i, err / len(x_train))  # 損失を表示


    x_train = np.array([[[0, 0]], [[0, 1]], [[1, 0]], [[1, 1]]], dtype=float)
    y_train = np.array([[[0]], [[1]], [[1]], [[0]]], dtype=float)
    net = Network()
    net.add(FCLayer(2, 3))
    net.add(ActivationLayer(sigmoid, dsigmoid))
    net.add(FCLayer(3, 1))
    net.add(ActivationLayer(sigmoid, dsigmoid))
    net.use(mse, mse_prime)
    net.fit(x_train, y_train, epochs=500, learning_rate=0.5)
"""

# a table of (function, derivative) pairs each layer picks by name; two instances of one class hold different ones
TABLE = """\
    import numpy as np


    def sigmoid(z):
        return 1 / (1 + np.exp(-z))


    def sigmoid_grad(z):
        s = sigmoid(z)
        return s * (1 - s)


    def relu(z):
        return np.maximum(0, z)


    def relu_grad(z):
        return (z > 0).astype(float)


    FUNCS = {"sigmoid": (sigmoid, sigmoid_grad), "relu": (relu, relu_grad)}


    class Dense:
        def __init__(self, n_in, units, activation="relu"):
            self.W = np.random.randn(n_in, units) * np.sqrt(1.0 / n_in)
            self.b = np.zeros((1, units))
            self.act, self.d_act = FUNCS[activation]

        def forward(self, X):
            self.X = X
            self.Z = X @ self.W + self.b
            return self.act(self.Z)

        def backward(self, dA):
            dZ = dA * self.d_act(self.Z)
            self.dW = self.X.T @ dZ
            self.db = dZ.sum(axis=0, keepdims=True)
            return dZ @ self.W.T


    np.random.seed(2)
    X = np.random.randn(300, 4)
    y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)
    layers = [Dense(4, 16, "relu"), Dense(16, 1, "sigmoid")]
    for epoch in range(100):
        out = X
        for layer in layers:
            out = layer.forward(out)
        loss = -np.mean(y * np.log(out + 1e-9) + (1 - y) * np.log(1 - out + 1e-9))
        dA = (out - y) / (out * (1 - out) + 1e-9) / len(X)
        for layer in reversed(layers):
            dA = layer.backward(dA)
        for layer in layers:
            layer.W -= 0.5 * layer.dW
            layer.b -= 0.5 * layer.db
"""

CASES = {
    "closure-square-left-out": (CLOSURES, "return 1 - np.tanh(x) ** 2", "return 1 - np.tanh(x)", "tanh_prime"),
    "closure-sign": (CLOSURES, "return 1 - np.tanh(x) ** 2", "return np.tanh(x) ** 2 - 1", "tanh_prime"),
    "handed-wrong-factor": (HANDED, "return s * (1 - s)", "return s * (1 - x)", "dsigmoid"),
    "table-second-instance": (TABLE, "return s * (1 - s)", "return s * (1 - z)", "sigmoid_grad"),
}


@pytest.mark.parametrize("program", [CLOSURES, HANDED, TABLE], ids=["closures", "handed", "table"])
def test_right_derivatives_are_clean(tmp_path: Path, program: str) -> None:
    report = check(planted(tmp_path, "net.py", program, "import numpy as np", "import numpy as np"))
    assert errors(report) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_derivative_is_named_at_its_return(tmp_path: Path, case: str) -> None:
    program, correct, wrong, function = CASES[case]
    path = planted(tmp_path, "net.py", program, correct, wrong)
    report = check(path)
    first = errors(report)[0]
    assert first["line"] == line_of(path, wrong.strip()), first
    assert function in first["message"]


def test_the_layer_that_multiplies_by_it_is_only_a_symptom(tmp_path: Path) -> None:
    program, correct, wrong, _ = CASES["closure-square-left-out"]
    path = planted(tmp_path, "net.py", program, correct, wrong)
    report = check(path)
    root = next(f for f in report["findings"] if f["name"] == "derivative-function-wrong")
    assert "1 - np.tanh(x) ** 2" in root["message"]  # the derivative to write
    backward = line_of(path, "return np.multiply(output_gradient, self.activation_prime(self.input))")
    symptoms = [f for f in report["findings"] if f["name"] == "gradient-mismatch" and f["line"] == backward]
    assert symptoms and all(f["caused_by"] for f in symptoms)


def test_a_derivative_written_of_the_output_is_right(tmp_path: Path) -> None:
    # `a * (1 - a)` given the layer's output: right, and nothing names it
    path = planted(
        tmp_path,
        "net.py",
        HANDED.replace("self.activation_prime(self.input)", "self.activation_prime(self.output)"),
        "s = sigmoid(x)\n    return s * (1 - s)",
        "return x * (1 - x)",
    )
    report = check(path)
    assert errors(report) == []
