"""A Nielsen network whose hidden layers hand `sigmoid_prime` (written from the input: `sigmoid(z) *
(1 - sigmoid(z))`) the layer's output, `activations[-l]`, where `zs[-l]` belongs: the finding names
that call's line, not the delta lines that only use it."""

from tests.userfiles import check, errors, line_of, planted

NETWORK = """
    import numpy as np


    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))


    def sigmoid_prime(z):
        return sigmoid(z) * (1 - sigmoid(z))


    class Network:
        def __init__(self, sizes):
            self.num_layers = len(sizes)
            self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
            self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

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
            delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
            nabla_b[-1] = delta
            nabla_w[-1] = np.dot(delta, activations[-2].transpose())
            for l in range(2, self.num_layers):
                sp = sigmoid_prime(zs[-l])
                delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
                nabla_b[-l] = delta
                nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
            return (nabla_b, nabla_w)
"""


def test_the_correct_network_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "network.py", NETWORK, "sp = sigmoid_prime(zs[-l])", "sp = sigmoid_prime(zs[-l])"))) == []


def test_the_derivative_handed_the_outputs_is_named_at_its_call(tmp_path):
    path = planted(tmp_path, "network.py", NETWORK, "sp = sigmoid_prime(zs[-l])", "sp = sigmoid_prime(activations[-l])")
    found = errors(check(path))
    assert found and {f["pattern"] for f in found} == {"derivative-of-output"}, found
    assert {f["line"] for f in found} == {line_of(path, "sp = sigmoid_prime(activations[-l])")}
    assert "the matching element of `zs`" in found[0]["message"]
