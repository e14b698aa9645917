"""A derivative helper the backward pass calls (`sigmoid_prime(zs[-l])` in a Nielsen network's `backprop` method,
`self.squash_grad(self.z)` in a model's `backward`, `sigmoid_derivative(cache["Z1"])` in a function network's
`backward_propagation`) that is wrong itself: every gradient computed through it is wrong, and the verdict names the
helper's own `return`, not the first line of the network that multiplies by it. A right helper handed the wrong
value (the activation's output where it wants the input) is named at the call, not at the helper, which the
check found right on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# Nielsen's network.py: lists of weights and biases, one sample at a time, module-level sigmoid and sigmoid_prime
NIELSEN = """\
    import random

    import numpy as np


    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))


    def sigmoid_prime(z):
        s = sigmoid(z)
        return s * (1 - s)


    class QuadraticNet:
        def __init__(self, sizes):
            self.num_layers = len(sizes)
            self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
            self.weights = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]

        def feedforward(self, a):
            for b, w in zip(self.biases, self.weights):
                a = sigmoid(w @ a + b)
            return a

        def backprop(self, x, y):
            grad_b = [np.zeros_like(b) for b in self.biases]
            grad_w = [np.zeros_like(w) for w in self.weights]
            acts, zs = [x], []
            for b, w in zip(self.biases, self.weights):
                zs.append(w @ acts[-1] + b)
                acts.append(sigmoid(zs[-1]))
            delta = (acts[-1] - y) * sigmoid_prime(zs[-1])
            grad_b[-1], grad_w[-1] = delta, delta @ acts[-2].T
            for l in range(2, self.num_layers):
                delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
                grad_b[-l], grad_w[-l] = delta, delta @ acts[-l - 1].T
            return grad_b, grad_w

        def train(self, data, epochs, batch, eta):
            for epoch in range(epochs):
                random.shuffle(data)
                for k in range(0, len(data), batch):
                    chunk = data[k:k + batch]
                    sum_b = [np.zeros_like(b) for b in self.biases]
                    sum_w = [np.zeros_like(w) for w in self.weights]
                    for x, y in chunk:
                        gb, gw = self.backprop(x, y)
                        sum_b = [s + g for s, g in zip(sum_b, gb)]
                        sum_w = [s + g for s, g in zip(sum_w, gw)]
                    self.biases = [b - eta / len(chunk) * s for b, s in zip(self.biases, sum_b)]
                    self.weights = [w - eta / len(chunk) * s for w, s in zip(self.weights, sum_w)]
                cost = np.mean([np.sum((self.feedforward(x) - y) ** 2) for x, y in data])
                print("epoch", epoch, "cost", cost)


    np.random.seed(3)
    random.seed(3)
    centres = np.random.randn(2, 5)
    data = []
    for i in range(60):
        label = i % 2
        x = (centres[label] + 0.4 * np.random.randn(5)).reshape(5, 1)
        data.append((x, np.array([[1.0 - label], [float(label)]])))
    net = QuadraticNet([5, 6, 2])
    net.train(data, 10, 6, 2.0)
"""

# a whole model whose backward(y_pred, y_true) steps its weights, its activation and derivative as its own methods
MODEL = """\
    import numpy as np


    class BinaryMLP:
        def __init__(self, n_in, n_hidden, lr=0.5, seed=0):
            rng = np.random.default_rng(seed)
            self.W1 = rng.normal(0, 0.5, (n_in, n_hidden))
            self.b1 = np.zeros(n_hidden)
            self.W2 = rng.normal(0, 0.5, (n_hidden, 1))
            self.b2 = np.zeros(1)
            self.lr = lr

        def squash(self, z):
            return 1.0 / (1.0 + np.exp(-z))

        def squash_grad(self, z):
            s = 1.0 / (1.0 + np.exp(-z))
            return s * (1.0 - s)

        def forward(self, X):
            self.X = X
            self.z = X @ self.W1 + self.b1
            self.h = self.squash(self.z)
            return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2).ravel()))

        def backward(self, y_pred, y_true):
            loss = -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
            d_out = (y_pred - y_true).reshape(-1, 1) / len(y_pred)
            dW2 = self.h.T @ d_out
            db2 = d_out.sum(axis=0)
            dz = (d_out @ self.W2.T) * self.squash_grad(self.z)
            dW1 = self.X.T @ dz
            db1 = dz.sum(axis=0)
            self.W2 -= self.lr * dW2
            self.b2 -= self.lr * db2
            self.W1 -= self.lr * dW1
            self.b1 -= self.lr * db1
            return loss


    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3))
    y = (np.abs(X[:, 0]) > 0.7).astype(float)
    model = BinaryMLP(3, 10)
    for epoch in range(200):
        loss = model.backward(model.forward(X), y)
        if epoch % 50 == 0:
            print(epoch, loss)
"""

# deeplearning.ai's functions over a dictionary of parameters, column-major data
FUNCTIONS = """\
    import numpy as np


    def sigmoid(Z):
        return 1 / (1 + np.exp(-Z))


    def sigmoid_derivative(Z):
        s = sigmoid(Z)
        return s * (1 - s)


    def initialize_parameters(n_x, n_h, n_y):
        np.random.seed(2)
        return {"W1": np.random.randn(n_h, n_x) * 0.5, "b1": np.zeros((n_h, 1)),
                "W2": np.random.randn(n_y, n_h) * 0.5, "b2": np.zeros((n_y, 1))}


    def forward_propagation(X, parameters):
        Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
        A1 = sigmoid(Z1)
        Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
        A2 = sigmoid(Z2)
        return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


    def compute_cost(A2, Y):
        m = Y.shape[1]
        return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


    def backward_propagation(parameters, cache, X, Y):
        m = X.shape[1]
        dZ2 = cache["A2"] - Y
        dW2 = np.dot(dZ2, cache["A1"].T) / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dA1 = np.dot(parameters["W2"].T, dZ2)
        dZ1 = dA1 * sigmoid_derivative(cache["Z1"])
        dW1 = np.dot(dZ1, X.T) / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


    X = np.random.RandomState(0).randn(2, 200)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    parameters = initialize_parameters(2, 4, 1)
    for i in range(1000):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        for k in ("W1", "b1", "W2", "b2"):
            parameters[k] = parameters[k] - 1.2 * grads["d" + k]
        if i % 250 == 0:
            print("cost after iteration %i: %f" % (i, cost))
"""

# cs231n's TwoLayerNet: loss(X, y) returns the loss and the gradients, module-level tanh and tanh_grad
TWO_LAYER = """\
    import numpy as np


    def tanh(x):
        return np.tanh(x)


    def tanh_grad(x):
        return 1 - np.tanh(x) ** 2


    class TwoLayerNet(object):
        def __init__(self, input_size, hidden_size, output_size, std=1e-1):
            self.params = {}
            self.params['W1'] = std * np.random.randn(input_size, hidden_size)
            self.params['b1'] = np.zeros(hidden_size)
            self.params['W2'] = std * np.random.randn(hidden_size, output_size)
            self.params['b2'] = np.zeros(output_size)

        def loss(self, X, y=None, reg=0.0):
            W1, b1 = self.params['W1'], self.params['b1']
            W2, b2 = self.params['W2'], self.params['b2']
            N = X.shape[0]
            h_in = X.dot(W1) + b1
            h = tanh(h_in)
            scores = h.dot(W2) + b2
            if y is None:
                return scores
            shifted = scores - scores.max(axis=1, keepdims=True)
            probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            loss = -np.log(probs[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
            grads = {}
            dscores = probs.copy()
            dscores[np.arange(N), y] -= 1
            dscores /= N
            grads['W2'] = h.T.dot(dscores) + 2 * reg * W2
            grads['b2'] = dscores.sum(axis=0)
            dh = dscores.dot(W2.T)
            dh_in = dh * tanh_grad(h_in)
            grads['W1'] = X.T.dot(dh_in) + 2 * reg * W1
            grads['b1'] = dh_in.sum(axis=0)
            return loss, grads

        def train(self, X, y, learning_rate=0.1, reg=1e-4, num_iters=200):
            for it in range(num_iters):
                loss, grads = self.loss(X, y, reg=reg)
                for k in self.params:
                    self.params[k] -= learning_rate * grads[k]
                if it % 50 == 0:
                    print('iteration %d: loss %f' % (it, loss))


    np.random.seed(0)
    X = np.random.randn(50, 4)
    y = np.random.randint(3, size=50)
    net = TwoLayerNet(4, 10, 3)
    net.train(X, y)
"""

PROGRAMS = {"nielsen": NIELSEN, "model": MODEL, "functions": FUNCTIONS, "two-layer": TWO_LAYER}

# (program, the helper's right return, its wrong twin, the helper's name)
WRONG_HELPERS = {
    "nielsen": (NIELSEN, "return s * (1 - s)", "return s * (1 - z)", "sigmoid_prime"),
    "model": (MODEL, "return s * (1.0 - s)", "return s * (1.0 - self.squash(s))", "squash_grad"),
    "functions": (FUNCTIONS, "return s * (1 - s)", "return s * (1 - Z)", "sigmoid_derivative"),
}

# (program, the right call, the call handed the activation's output)
WRONG_CALLS = {
    "nielsen": (NIELSEN, "* sigmoid_prime(zs[-l])", "* sigmoid_prime(acts[-l])"),
    "two-layer": (TWO_LAYER, "dh * tanh_grad(h_in)", "dh * tanh_grad(h)"),
    "functions": (FUNCTIONS, 'sigmoid_derivative(cache["Z1"])', 'sigmoid_derivative(cache["A1"])'),
}


@pytest.mark.parametrize("style", sorted(PROGRAMS))
def test_right_programs_are_clean(tmp_path: Path, style: str) -> None:
    report = check(planted(tmp_path, "net.py", PROGRAMS[style], "import numpy as np", "import numpy as np"))
    assert errors(report) == []


@pytest.mark.parametrize("style", sorted(WRONG_HELPERS))
def test_a_wrong_helper_is_named_at_its_return(tmp_path: Path, style: str) -> None:
    program, correct, wrong, helper = WRONG_HELPERS[style]
    path = planted(tmp_path, "net.py", program, correct, wrong)
    report = check(path)
    found = errors(report)
    assert found[0]["line"] == line_of(path, wrong), found[0]
    assert helper in found[0]["message"]
    # the network's own wrong gradients follow from it
    assert all(f["caused_by"] for f in found[1:]), found


@pytest.mark.parametrize("style", sorted(WRONG_CALLS))
def test_a_right_helper_handed_the_output_is_named_at_the_call(tmp_path: Path, style: str) -> None:
    program, correct, wrong = WRONG_CALLS[style]
    path = planted(tmp_path, "net.py", program, correct, wrong)
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, wrong), found
