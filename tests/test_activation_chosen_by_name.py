"""A Keras-like `Dense(units, activation="tanh")` whose backward chooses the derivative by the
activation's name, with one branch written with another activation's derivative. Every gradient of
the layer is wrong at lines that read the rebound `grad` and are right themselves: the branch is
named, with the derivative of the activation its test names, and no fix is offered for the lines
that read `grad` (their upstream name no longer holds the upstream gradient).

Two styles: an `if/elif` on `self.activation` in a layer class trained by a `Sequential`-like model,
and the same choice made on a string stored under another name in a layer list.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

KERAS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, activation=None, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(n_in, n_out)) * np.sqrt(1.0 / n_in)
        self.b = np.zeros(n_out)
        self.activation = activation

    def forward(self, x):
        self.x = x
        z = x @ self.W + self.b
        if self.activation == "tanh":
            self.out = np.tanh(z)
        elif self.activation == "sigmoid":
            self.out = 1 / (1 + np.exp(-z))
        else:
            self.out = z
        return self.out

    def backward(self, grad):
        if self.activation == "tanh":
            grad = grad * (1 - self.out ** 2)
        elif self.activation == "sigmoid":
            grad = grad * self.out * (1 - self.out)
        self.dW = self.x.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T


class Model:
    def __init__(self, layers):
        self.layers = layers

    def fit_step(self, x, y, lr):
        out = x
        for layer in self.layers:
            out = layer.forward(out)
        loss = np.mean((out - y) ** 2)
        grad = 2 * (out - y) / out.size
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        for layer in self.layers:
            layer.W -= lr * layer.dW
            layer.b -= lr * layer.db
        return loss


rng = np.random.default_rng(1)
X = rng.uniform(-1, 1, (128, 2))
Y = np.sin(2 * X[:, :1]) * np.cos(X[:, 1:])
model = Model([Dense(2, 12, "tanh", seed=1), Dense(12, 12, "sigmoid", seed=2), Dense(12, 1, seed=3)])
for epoch in range(200):
    loss = model.fit_step(X, Y, 0.2)
    if epoch % 40 == 0:
        print(epoch, loss)
'''


@pytest.mark.parametrize(
    "correct, wrong, fix",
    [
        ("grad = grad * (1 - self.out ** 2)", "grad = grad * (1 - self.out)", "1 - self.out ** 2"),
        ("grad = grad * self.out * (1 - self.out)", "grad = grad * (1 - self.out ** 2)", "self.out * (1 - self.out)"),
    ],
    ids=["tanh-branch", "sigmoid-branch"],
)
def test_the_branch_with_another_derivative_is_named(tmp_path, correct, wrong, fix):
    path = planted(tmp_path, "dense.py", KERAS, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    backward = line_of(path, "def backward(self, grad):")
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, text in enumerate(lines, 1) if i > backward and wrong in text and (i == backward + 2) == (fix == "1 - self.out ** 2"))
    assert (root["code"], root["pattern"], root["line"]) == ("BPD101", "branch-derivative", at)
    assert f"write `{fix}`" in root["message"]
    others = [f for f in errors(report) if f["layer"] and f["layer"].startswith("Dense") and f["line"] != root["line"]]
    assert all(f["fix"] is None or "np.dot" not in f["fix"] for f in others)


def test_the_correct_layers_are_clean(tmp_path):
    path = planted(tmp_path, "dense.py", KERAS, "import numpy as np", "import numpy as np")
    assert errors(check(path)) == []
