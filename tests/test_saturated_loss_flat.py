"""A network started from weights so large (`weight_init_std=1.0` through five ReLU layers of 100) that its
scores reach 1e5: its softmax gives probabilities of exactly 0 and 1, and the loss `log(y + 1e-7)` is the same
number whatever the scores do near there, so every numerical gradient is exactly 0 while backward gives
`(y - t) / N`, the right gradient. The check used to say "the numerical gradient is zero ... make forward compute
with this very array" for the loss layer's input and every parameter; it now finds that forward does read those
arrays (the loss moves when they move far, or turn NaN), says in a `loss-flat` warning that the loss is flat in
floating point and names the scores' size. A parameter whose backward adds a term the loss does not have (a
weight decay left out of the loss) is still an error, found by checking again with the classes the network
predicts as targets; a forward that computes with copies of its parameters is still an error too. The programs
here are written for these tests.
"""

from __future__ import annotations

import numpy as np

from tests.userfiles import check, errors, line_of, planted, write

# the first book's layers, chained by a network that keeps its parameters in a dict
LAYERS = '''\
import numpy as np
from collections import OrderedDict


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)


def cross_entropy_error(y, t):
    batch_size = y.shape[0]
    return -np.sum(t * np.log(y + 1e-7)) / batch_size


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, self.t)

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        return dout * (self.y - self.t) / batch_size


class DeepNet:
    def __init__(self, input_size, hidden_size_list, output_size, weight_init_std=1.0):
        sizes = [input_size] + hidden_size_list + [output_size]
        self.params = {}
        for i in range(1, len(sizes)):
            self.params['W%d' % i] = weight_init_std * np.random.randn(sizes[i - 1], sizes[i])
            self.params['b%d' % i] = np.zeros(sizes[i])
        self.layers = OrderedDict()
        for i in range(1, len(sizes)):
            self.layers['Affine%d' % i] = Affine(self.params['W%d' % i], self.params['b%d' % i])
            if i < len(sizes) - 1:
                self.layers['Relu%d' % i] = Relu()
        self.last_layer = SoftmaxWithLoss()
        self.depth = len(sizes) - 1

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.depth + 1):
            grads['W' + str(i)] = self.layers['Affine' + str(i)].dW
            grads['b' + str(i)] = self.layers['Affine' + str(i)].db
        return grads


if __name__ == "__main__":
    np.random.seed(0)
    x_train = np.random.rand(200, 64)
    t_train = np.eye(10)[np.random.randint(0, 10, size=200)]
    network = DeepNet(input_size=64, hidden_size_list=[100, 100, 100, 100, 100], output_size=10, weight_init_std=1.0)
    for i in range(20):
        batch = np.random.choice(200, 50)
        grads = network.gradient(x_train[batch], t_train[batch])
        for key in network.params:
            network.params[key] -= 0.01 * grads[key]
    print(network.loss(x_train, t_train))
'''

# one network that computes it all itself, without layer objects
FUNCTIONS = '''\
import numpy as np


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=1, keepdims=True)


class DeepMLP:
    def __init__(self, sizes, weight_init_std=1.0):
        self.n = len(sizes) - 1
        self.params = {}
        for i in range(self.n):
            self.params['W%d' % i] = weight_init_std * np.random.randn(sizes[i], sizes[i + 1])
            self.params['b%d' % i] = np.zeros(sizes[i + 1])

    def predict(self, x):
        for i in range(self.n):
            x = np.dot(x, self.params['W%d' % i]) + self.params['b%d' % i]
            if i < self.n - 1:
                x = np.maximum(x, 0)
        return x

    def loss(self, x, t):
        y = softmax(self.predict(x))
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        acts = [x]
        for i in range(self.n):
            z = np.dot(acts[-1], self.params['W%d' % i]) + self.params['b%d' % i]
            acts.append(np.maximum(z, 0) if i < self.n - 1 else z)
        delta = (softmax(acts[-1]) - t) / x.shape[0]
        grads = {}
        for i in reversed(range(self.n)):
            grads['W' + str(i)] = np.dot(acts[i].T, delta)
            grads['b' + str(i)] = np.sum(delta, axis=0)
            if i > 0:
                delta = np.dot(delta, self.params['W%d' % i].T) * (acts[i] > 0)
        return grads


if __name__ == "__main__":
    np.random.seed(0)
    x_train = np.random.rand(200, 64)
    t_train = np.eye(10)[np.random.randint(0, 10, size=200)]
    net = DeepMLP([64, 100, 100, 100, 100, 100, 10], weight_init_std=1.0)
    for step in range(20):
        batch = np.random.choice(200, 50)
        grads = net.gradient(x_train[batch], t_train[batch])
        for key in net.params:
            net.params[key] -= 0.01 * grads[key]
    print(net.loss(x_train, t_train))
'''

ZERO_ADVICE = "make forward compute with this very array"


def _saturated(report: dict) -> dict[str, str]:
    """The saturated network's one note: its gradients agree on the classes it predicts."""
    return {f["layer"]: f["message"] for f in report["findings"] if f["pattern"] == "saturated-loss" and f["severity"] == "info"}


def test_a_saturated_network_of_layers_is_a_flat_loss_not_a_wrong_gradient(tmp_path):
    report = check(write(tmp_path, "deep.py", LAYERS))
    assert not errors(report)
    assert not any(ZERO_ADVICE in f["message"] for f in report["findings"])
    note = _saturated(report)["DeepNet"]
    assert "`b1`" in note and "`x`" in note  # the loss layer's input, checked on the same scores, joins it


def test_the_loss_layer_alone_at_saturated_scores_is_a_flat_loss_naming_their_size(tmp_path):
    """Checked as a layer of its own on the scores the network feeds it, where no network's note takes it in."""
    from backprop_doctor.api import check_layer

    namespace: dict = {}
    exec(compile(LAYERS.split("class DeepNet")[0], "layers", "exec"), namespace)
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(16, 10)) * 1e5
    labels = np.eye(10)[rng.integers(0, 10, 16)]
    report = check_layer(namespace["SoftmaxWithLoss"](), scores, labels)
    assert not [f for f in report.findings if f.severity == "error"]
    (flat,) = [f for f in report.findings if f.name == "loss-flat"]
    assert flat.param == "x" and "reaches" in flat.message and "saturated" in flat.message


def test_a_weight_decay_only_in_the_gradient_of_a_saturated_network_of_layers_is_still_wrong(tmp_path):
    bug = planted(
        tmp_path, "deep.py", LAYERS,
        "grads['W' + str(i)] = self.layers['Affine' + str(i)].dW",
        "grads['W' + str(i)] = self.layers['Affine' + str(i)].dW + 0.5 * self.params['W' + str(i)]",
    )  # fmt: skip
    found = errors(check(bug))
    wrong = {f["param"] for f in found if f["name"] == "gradient-mismatch" and f["layer"] == "DeepNet"}
    assert wrong == {f"W{i}" for i in range(1, 7)}
    # at the loop that stores the gradients (the weights' line, or the biases' just after it: `grads['W' + str(i)]`
    # is found by its dict, not its key)
    at = line_of(bug, "+ 0.5 * self.params")
    assert all(f["line"] in (at, at + 1) for f in found if f["layer"] == "DeepNet")
    assert not any(f["layer"] == "SoftmaxWithLoss" or ZERO_ADVICE in f["message"] for f in found)


def test_layers_that_compute_with_copies_of_the_parameters_are_still_an_error(tmp_path):
    bug = planted(
        tmp_path, "deep.py", LAYERS,
        "Affine(self.params['W%d' % i], self.params['b%d' % i])",
        "Affine(self.params['W%d' % i].copy(), self.params['b%d' % i])",
    )  # fmt: skip
    found = errors(check(bug))
    assert any(f["layer"] == "DeepNet" and "W1" in (f["param"] or "") for f in found)


def test_a_saturated_network_without_layers_is_a_flat_loss_not_a_wrong_gradient(tmp_path):
    report = check(write(tmp_path, "mlp.py", FUNCTIONS))
    assert not errors(report)
    assert not any(ZERO_ADVICE in f["message"] for f in report["findings"])
    assert "`W0`" in _saturated(report)["DeepMLP"]


def test_a_weight_decay_only_in_the_gradient_of_a_saturated_network_without_layers_is_still_wrong(tmp_path):
    bug = planted(
        tmp_path, "mlp.py", FUNCTIONS,
        "grads['W' + str(i)] = np.dot(acts[i].T, delta)",
        "grads['W' + str(i)] = np.dot(acts[i].T, delta) + 0.5 * self.params['W' + str(i)]",
    )  # fmt: skip
    found = [f for f in errors(check(bug)) if f["name"] == "gradient-mismatch"]
    assert {f["param"] for f in found} == {f"W{i}" for i in range(6)}
    at = line_of(bug, "+ 0.5 * self.params")
    assert all(f["line"] in (at, at + 1) for f in found)
