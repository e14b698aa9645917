"""A loop over the layers that moves each parameter through a local alias, `W = layer.params["W"]`
then `W -= lr * layer.grads["W"]` (or `W, b = m.W, m.b`, or `W = layer["W"]` of a layer kept as a dict).
The replay takes the program's state at a pass's start, where the alias still holds the last layer's
array from the pass before: that array was measured, but under the alias's bare name (`W`, `b`), so
the report did not say which layer it was and the last layer seemed not measured. Every parameter is
named by the container that holds it (`layers[2].params['W']`), each once.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, step_verdicts

PARAMS_DICT_SCRIPT = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.normal(size=(n_in, n_out)) * np.sqrt(2.0 / n_in), "b": np.zeros(n_out)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, d):
        self.grads["W"] = self.x.T @ d
        self.grads["b"] = d.sum(axis=0)
        return d @ self.params["W"].T


class Relu:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, d):
        return d * self.mask


rng = np.random.default_rng(31)
X = rng.normal(size=(90, 5))
y = (X[:, 1] - X[:, 4] > 0).astype(int)
layers = [Dense(5, 9, rng), Relu(), Dense(9, 2, rng)]
for it in range(120):
    a = X
    for L in layers:
        a = L.forward(a)
    a = a - a.max(axis=1, keepdims=True)
    P = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(len(X)), y]).mean()
    d = P.copy()
    d[np.arange(len(X)), y] -= 1
    d /= len(X)
    for L in reversed(layers):
        d = L.backward(d)
    for L in layers:
        if isinstance(L, Dense):
            W = L.params["W"]
            W -= 0.2 * L.grads["W"]
            b = L.params["b"]
            b -= 0.2 * L.grads["b"]
    if it % 40 == 0:
        print(it, loss)
'''

ATTRIBUTES_IN_A_FUNCTION = '''\
import numpy as np


class Affine:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) * 0.5
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y ** 2)


def train(X, Y, epochs=200, lr=0.1):
    rng = np.random.default_rng(2)
    model = [Affine(X.shape[1], 8, rng), Tanh(), Affine(8, 8, rng), Tanh(), Affine(8, 1, rng)]
    for epoch in range(epochs):
        out = X
        for m in model:
            out = m.forward(out)
        loss = np.mean((out - Y) ** 2)
        grad = 2 * (out - Y) / len(X)
        for m in reversed(model):
            grad = m.backward(grad)
        for m in model:
            if hasattr(m, "W"):
                W, b = m.W, m.b
                W -= lr * m.dW
                b -= lr * m.db
        if epoch % 50 == 0:
            print(epoch, loss)
    return model


rng = np.random.default_rng(9)
X = rng.normal(size=(50, 3))
Y = np.cos(X[:, :1]) - X[:, 2:3]
train(X, Y)
'''

DICT_LAYERS_FUNCTIONS = '''\
import numpy as np


def layer_out(layer, x):
    layer["x"] = x
    return x @ layer["W"] + layer["b"]


def layer_grads(layer, dy):
    layer["dW"] = layer["x"].T @ dy
    layer["db"] = dy.sum(axis=0)
    return dy @ layer["W"].T


rng = np.random.default_rng(4)
X = rng.normal(size=(64, 2))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
net = [{"W": rng.normal(size=(2, 6)), "b": np.zeros(6)}, {"W": rng.normal(size=(6, 1)) * 0.5, "b": np.zeros(1)}]
lr = 0.3
for step in range(300):
    h = np.maximum(layer_out(net[0], X), 0)
    z = layer_out(net[1], h)
    p = 1 / (1 + np.exp(-z))
    loss = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    dh = layer_grads(net[1], (p - Y) / len(X))
    layer_grads(net[0], dh * (h > 0))
    for layer in net:
        W = layer["W"]
        b = layer["b"]
        W -= lr * layer["dW"]
        b -= lr * layer["db"]
    if step % 100 == 0:
        print(step, loss)
'''

CASES = {
    "params dict, plain script": (
        PARAMS_DICT_SCRIPT, '        self.grads["W"] = self.x.T @ d\n', '        self.grads["W"] = self.x.T @ d * 2\n',
        ["layers[0].params['W']", "layers[0].params['b']", "layers[2].params['W']", "layers[2].params['b']"],
    ),
    "attributes, a train function": (
        ATTRIBUTES_IN_A_FUNCTION, "        self.dW = self.x.T @ dy\n", "        self.dW = self.x.T @ dy * 2\n",
        ["model[0].W", "model[0].b", "model[2].W", "model[2].b", "model[4].W", "model[4].b"],
    ),
    "dict layers, functions": (
        DICT_LAYERS_FUNCTIONS, '    layer["dW"] = layer["x"].T @ dy\n', '    layer["dW"] = layer["x"].T @ dy * 2\n',
        ["net[0]['W']", "net[0]['b']", "net[1]['W']", "net[1]['b']"],
    ),
}  # fmt: skip


def _step_rows(report: dict) -> list[str]:
    return [m["param"] for m in report["measurements"] if m["layer"] == "training step"]


@pytest.mark.parametrize("case", CASES)
def test_every_layer_moved_through_an_alias_is_named_by_its_container(tmp_path, case):
    program, right, _, names = CASES[case]
    report = check(planted(tmp_path, "ok.py", program, right, right), training=True)
    assert errors(report) == [] and [f for f in report["findings"] if f["severity"] == "warning"] == []
    assert sorted(_step_rows(report)) == sorted(names)  # each once, none under the alias's bare name
    assert set(step_verdicts(report).values()) == {"ok"}


@pytest.mark.parametrize("case", CASES)
def test_a_doubled_gradient_moved_through_an_alias_names_every_layer(tmp_path, case):
    program, right, wrong, names = CASES[case]
    path = planted(tmp_path, "bug.py", program, right, wrong)
    report = check(path, training=True)
    assert sorted(_step_rows(report)) == sorted(names)
    weights = [n for n in names if n.endswith((".W", "['W']"))]
    assert step_verdicts(report) == {n: "mismatch" if n in weights else "ok" for n in names}
    found = errors(report)
    assert found[0]["line"] == line_of(path, wrong.strip()) and "2 ×" in found[0]["message"]
    # one finding for the step, naming the layers' weights by their containers, never the alias alone
    assert not any(f["code"] == "BPD108" and "`W`" in f["message"] for f in found)
