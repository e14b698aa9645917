"""A whole model whose `backward(grad_out)` takes the SGD step itself on its lists of weight arrays, at a
rate the instance holds (`self.weights[i] -= self.lr * dW`), and returns nothing: the end of the chain,
no `bad-return` "return dx" error nor "nothing could be compared". Its gradients are read off the step
(the held rate set to 1, each list entry a parameter), so a wrong one is still found, whether or not
the program's own training ran."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# The program stops before training (its data is missing): only the model itself can be checked.
STOPS = '''\
import numpy as np


class TanhNet:
    def __init__(self, sizes, lr):
        rng = np.random.default_rng(0)
        self.lr = lr
        self.weights = [rng.normal(0, 0.5, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(b) for b in sizes[1:]]

    def forward(self, x):
        self.inputs, self.outputs = [], []
        for W, b in zip(self.weights, self.biases):
            self.inputs.append(x)
            x = np.tanh(x @ W + b)
            self.outputs.append(x)
        return x

    def backward(self, grad_out):
        delta = grad_out * (1 - self.outputs[-1] ** 2)
        for i in reversed(range(len(self.weights))):
            dW = self.inputs[i].T @ delta
            db = delta.sum(axis=0)
            back = delta @ self.weights[i].T
            self.weights[i] -= self.lr * dW
            self.biases[i] -= self.lr * db
            if i > 0:
                delta = back * (1 - self.outputs[i - 1] ** 2)


net = TanhNet([5, 7, 3], 0.05)
data = np.load("features.npy")
for epoch in range(20):
    out = net.forward(data)
    net.backward(2 * (out - data[:, :3]) / out.size)
'''

# The assignment form with a rate named `learning_rate`, sigmoid units, and a training loop that runs.
TRAINS = '''\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class AutoEncoder:
    def __init__(self, layer_sizes, learning_rate=0.5):
        rng = np.random.RandomState(3)
        self.learning_rate = learning_rate
        self.W = [rng.randn(m, n) * 0.4 for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]
        self.b = [np.zeros((1, n)) for n in layer_sizes[1:]]

    def forward(self, x):
        self.a = [x]
        for W, b in zip(self.W, self.b):
            x = sigmoid(x @ W + b)
            self.a.append(x)
        return x

    def backward(self, d_out):
        d_z = d_out * self.a[-1] * (1 - self.a[-1])
        for k in range(len(self.W) - 1, -1, -1):
            g_W = self.a[k].T @ d_z
            g_b = d_z.sum(axis=0, keepdims=True)
            d_prev = d_z @ self.W[k].T
            self.W[k] = self.W[k] - self.learning_rate * g_W
            self.b[k] = self.b[k] - self.learning_rate * g_b
            d_z = d_prev * self.a[k] * (1 - self.a[k])


rng = np.random.RandomState(0)
X = rng.rand(24, 6)
model = AutoEncoder([6, 3, 6])
for epoch in range(100):
    recon = model.forward(X)
    loss = np.mean((recon - X) ** 2)
    model.backward(2 * (recon - X) / recon.size)
print(loss)
'''


def _measured(report: dict, layer: str) -> set[str]:
    return {m["param"] for m in report["measurements"] if m["layer"] == layer}


def test_a_model_stepping_its_lists_is_clean_when_the_program_stops_before_training(tmp_path):
    report = check(write(tmp_path, "tanh_net.py", STOPS))
    assert errors(report) == [], report["findings"]
    assert not [f for f in report["findings"] if f["name"] in ("bad-return", "nothing-to-check")]
    assert {"weights[0]", "weights[1]", "biases[0]", "biases[1]"} <= _measured(report, "TanhNet")


def test_a_wrong_gradient_of_that_model_is_still_found(tmp_path):
    path = planted(tmp_path, "tanh_net.py", STOPS, "delta = back * (1 - self.outputs[i - 1] ** 2)", "delta = back * (1 - self.outputs[i - 1])")
    wrong = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert "weights[0]" in {f["param"] for f in wrong}, wrong  # every layer below the output's (the built net's depth)


def test_an_autoencoder_assigning_its_step_is_clean(tmp_path):
    report = check(write(tmp_path, "autoencoder.py", TRAINS), training=True)
    assert errors(report) == [], report["findings"]
    assert not [f for f in report["findings"] if f["name"] == "bad-return"]
    assert {"W[0]", "W[1]", "b[0]", "b[1]"} <= _measured(report, "AutoEncoder")


def test_a_wrong_gradient_of_the_autoencoder_is_still_found(tmp_path):
    path = planted(tmp_path, "autoencoder.py", TRAINS, "g_b = d_z.sum(axis=0, keepdims=True)", "g_b = d_z.mean(axis=0, keepdims=True)")
    wrong = [f for f in errors(check(path)) if f["name"] in ("gradient-mismatch", "step-gradient-mismatch")]
    assert wrong, check(path)["findings"]
