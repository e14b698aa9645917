"""Nielsen's network2-style `CrossEntropyCost` whose `delta` multiplies the output error by the
sigmoid's slope (the quadratic cost's habit): with the cross-entropy the slope cancels, and the
report says which method to change and what to return."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
"""Nielsen's network2-style cost classes with a tiny training loop."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class CrossEntropyCost(object):
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return (a - y)


class Network(object):
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.num_layers = len(sizes)
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
        self.cost = cost

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (self.cost).delta(zs[-1], activations[-1], y)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            sp = sigmoid_prime(zs[-l])
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            dnb, dnw = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]


np.random.seed(0)
data = []
for _ in range(100):
    x = np.random.randn(4, 1)
    y = np.array([[float(x[0, 0] + x[1, 0] > 0)]])
    data.append((x, y))
net = Network([4, 6, 1])
for epoch in range(20):
    for k in range(0, 100, 10):
        net.update_mini_batch(data[k:k + 10], 0.5)
    if epoch % 5 == 0:
        print(epoch, sum(CrossEntropyCost.fn(net.feedforward(x), y) for x, y in data) / 100)
'''

RIGHT = "        return (a - y)\n"
SLOPED = "        return (a - y) * sigmoid_prime(z)\n"


def test_the_cross_entropy_delta_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "network2.py", PROGRAM, RIGHT, RIGHT))) == []


def test_the_sigmoid_slope_in_the_cross_entropy_delta_is_named(tmp_path):
    path = planted(tmp_path, "network2.py", PROGRAM, RIGHT, SLOPED)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["line"], root["pattern"]) == (line_of(path, "return (a - y) * sigmoid_prime(z)"), "extra-activation-derivative")
    assert root["message"].endswith("the output error is `a - y` itself: return `a - y`")
