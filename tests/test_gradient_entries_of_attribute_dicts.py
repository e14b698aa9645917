"""A network that keeps its gradients in a dict attribute (`self.grads["V"] = ...`, or through an alias,
`p, g = self.params, self.grads` then `g["V"] = ...`) and a training loop that reads them back by key
(`net.params[k] -= lr * net.grads[k]`): a wrong entry is named at the statement that sets it, not at the
update nor at an unrelated line between two adjoints, and the file's class is not mistaken for a cs231n
classifier whose `loss` hands its gradients back (no build warning on the correct file).

Two styles: a module-level loop over a weight-scaled layer (entries set through an alias), and a class
with its own `train` method whose `loss` fills `self.grads` directly.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SCALED = '''\
import numpy as np


class ScaledNet:
    def __init__(self, n_in, n_hidden, n_out):
        rng = np.random.default_rng(3)
        self.params = {"V": rng.normal(0, 0.4, (n_in, n_hidden)), "s": rng.uniform(0.5, 1.5, n_hidden),
                       "W2": rng.normal(0, 0.4, (n_hidden, n_out)), "b2": np.zeros(n_out)}
        self.grads = {}

    def forward(self, X):
        p = self.params
        z = X @ (p["V"] * p["s"])
        a = np.tanh(z)
        self.cache = (X, z, a)
        return a @ p["W2"] + p["b2"]

    def loss(self, X, Y):
        out = self.forward(X)
        diff = out - Y
        self.backward(2 * diff / len(X))
        return np.mean(np.sum(diff ** 2, axis=1))

    def backward(self, dout):
        p, g = self.params, self.grads
        X, z, a = self.cache
        g["W2"] = a.T @ dout
        g["b2"] = dout.sum(axis=0)
        dz = (dout @ p["W2"].T) * (1 - a ** 2)
        dW = X.T @ dz
        g["s"] = np.sum(dW * p["V"], axis=0)
        g["V"] = dW * p["s"]


rng = np.random.default_rng(0)
X = rng.normal(size=(64, 3))
Y = np.c_[np.sin(X[:, 0]), X[:, 1] * X[:, 2]]
net = ScaledNet(3, 8, 2)
for it in range(200):
    loss = net.loss(X, Y)
    for k in net.params:
        net.params[k] -= 0.1 * net.grads[k]
    if it % 50 == 0:
        print(it, loss)
'''

GAIN = '''\
import numpy as np


class GainNet:
    """Two layers; each output unit has a gain c: out = (h @ W2) * c."""

    def __init__(self, sizes, seed=1):
        rng = np.random.default_rng(seed)
        n_in, n_hid, n_out = sizes
        self.params = {"W1": rng.normal(0, 0.5, (n_in, n_hid)), "b1": np.zeros(n_hid),
                       "W2": rng.normal(0, 0.5, (n_hid, n_out)), "c": rng.uniform(0.3, 0.9, n_out)}
        self.grads = {}

    def loss(self, X, Y):
        h = 1 / (1 + np.exp(-(X @ self.params["W1"] + self.params["b1"])))
        u = h @ self.params["W2"]
        out = u * self.params["c"]
        dout = (out - Y) / len(X)
        self.grads["c"] = np.sum(dout * u, axis=0)
        self.grads["W2"] = h.T @ (dout * self.params["c"])
        dh = (dout * self.params["c"]) @ self.params["W2"].T
        dz = dh * h * (1 - h)
        self.grads["W1"] = X.T @ dz
        self.grads["b1"] = dz.sum(axis=0)
        return 0.5 * np.sum((out - Y) ** 2) / len(X)

    def train(self, X, Y, epochs=200, lr=0.5):
        for epoch in range(epochs):
            loss = self.loss(X, Y)
            for k in self.params:
                self.params[k] -= lr * self.grads[k]
            if epoch % 50 == 0:
                print(epoch, loss)


rng = np.random.default_rng(0)
X = rng.normal(size=(80, 4))
Y = np.c_[X[:, 0] * X[:, 1], np.cos(X[:, 2])]
GainNet((4, 10, 2)).train(X, Y)
'''

CASES = [
    (SCALED, 'g["V"] = dW * p["s"]', 'g["V"] = dW / p["s"]', "net.params['V']"),
    (GAIN, 'self.grads["W2"] = h.T @ (dout * self.params["c"])', 'self.grads["W2"] = h.T @ dout', "self.params['W2']"),
]


@pytest.mark.parametrize("text, correct, wrong, parameter", CASES, ids=["alias-in-method", "attribute-in-loss"])
def test_a_wrong_entry_is_named_where_it_is_set(tmp_path, text, correct, wrong, parameter):
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert finding["line"] == line_of(path, wrong)
    assert f"`{parameter}`" in finding["message"]


def test_the_right_adjoint_it_is_computed_from_is_named(tmp_path):
    path = planted(tmp_path, "train.py", GAIN, CASES[1][1], CASES[1][2])
    (finding,) = errors(check(path, training=True))
    assert f"`dout` (line {line_of(path, 'dout = (out - Y) / len(X)')})" in finding["message"]
    assert f"re-derive line {line_of(path, CASES[1][2])}" in finding["message"]


@pytest.mark.parametrize("text", [SCALED, GAIN], ids=["alias-in-method", "attribute-in-loss"])
def test_the_correct_network_is_clean_and_built_without_a_warning(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
