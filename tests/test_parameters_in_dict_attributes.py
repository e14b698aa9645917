"""Class layers that hold their parameters in a dict attribute (`self.params = {"W": ..., "b": ...}`) and whose
backward writes the gradients into another dict under the same keys (`self.grads["W"] = ...`): the layer check
finds each entry as a parameter (`Dense.W`, or `SelfAttention.Wq` for `self.params = {"Wq": self.Wq}`) and
compares its gradient, so a wrong one is named as a gradient-mismatch at the statement writing it; before, only
the input `x` was measured and the layer passed.

Two styles: a Dense + ReLU file whose network loops over its layers (`layer.params[k] -= lr * layer.grads[k]`),
its gradients' dict written six ways (filled in the constructor and bound again, started empty, written in
place, written through a local alias, added into and zeroed by the network before each backward, under `"dW"`
keys); and a Keras-like `Sequential` of layers sharing a base
class that makes both dicts empty, with a self-attention layer whose dict holds the very arrays its forward reads
as attributes. Each correct twin is clean, the network's training step included.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

DENSE_RELU = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.normal(0.0, 0.5, (n_in, n_out)), "b": np.zeros(n_out)}
        self.grads = {"W": np.zeros((n_in, n_out)), "b": np.zeros(n_out)}
        self.x = None

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class SoftmaxCrossEntropy:
    def forward(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        self.p = e / e.sum(axis=1, keepdims=True)
        self.labels = labels
        return -np.mean(np.log(self.p[np.arange(len(labels)), labels] + 1e-12))

    def backward(self):
        d = self.p.copy()
        d[np.arange(len(self.labels)), self.labels] -= 1.0
        return d / len(self.labels)


class Net:
    def __init__(self, sizes):
        self.layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Dense(a, b, seed=i))
            if i < len(sizes) - 2:
                self.layers.append(ReLU())
        self.loss_layer = SoftmaxCrossEntropy()

    def loss(self, x, t):
        for layer in self.layers:
            x = layer.forward(x)
        return self.loss_layer.forward(x, t)

    def gradient(self, x, t):
        self.loss(x, t)
        d = self.loss_layer.backward()
        for layer in reversed(self.layers):
            d = layer.backward(d)


rng = np.random.default_rng(1)
X = rng.normal(size=(60, 4))
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
net = Net([4, 16, 2])
for epoch in range(100):
    net.gradient(X, y)
    for layer in net.layers:
        if hasattr(layer, "params"):
            for k in layer.params:
                layer.params[k] -= 0.5 * layer.grads[k]
    if epoch % 25 == 0:
        print(epoch, net.loss(X, y))
'''

PREFILLED = 'self.grads = {"W": np.zeros((n_in, n_out)), "b": np.zeros(n_out)}'
WRITES = '''        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T'''

# (how the gradients' dict is written: [(text of DENSE_RELU, its replacement)], the statement writing W's gradient)
DENSE_WAYS = {
    "rebound": ([], 'self.grads["W"] = self.x.T @ dout'),
    "started-empty": ([(PREFILLED, "self.grads = {}")], 'self.grads["W"] = self.x.T @ dout'),
    "in-place": (
        [(WRITES, WRITES.replace('self.grads["W"] =', 'self.grads["W"][...] =').replace('self.grads["b"] =', 'self.grads["b"][:] ='))],
        'self.grads["W"][...] = self.x.T @ dout',
    ),
    "alias": (
        [(WRITES, '''        p, g = self.params, self.grads
        g["W"] = self.x.T @ dout
        g["b"] = dout.sum(axis=0)
        return dout @ p["W"].T''')],
        'g["W"] = self.x.T @ dout',
    ),
    "added-and-zeroed": (
        [
            (WRITES, WRITES.replace('self.grads["W"] =', 'self.grads["W"] +=').replace('self.grads["b"] =', 'self.grads["b"] +=')),
            (
                "        self.loss(x, t)\n        d = self.loss_layer.backward()",
                "        for layer in self.layers:\n            for g in getattr(layer, \"grads\", {}).values():\n"
                "                g[...] = 0.0\n        self.loss(x, t)\n        d = self.loss_layer.backward()",
            ),
        ],
        'self.grads["W"] += self.x.T @ dout',
    ),
    "d-keys": (
        [
            (PREFILLED, 'self.grads = {"dW": np.zeros((n_in, n_out)), "db": np.zeros(n_out)}'),
            (WRITES, WRITES.replace('self.grads["W"]', 'self.grads["dW"]').replace('self.grads["b"]', 'self.grads["db"]')),
            ("layer.grads[k]", 'layer.grads["d" + k]'),
        ],
        'self.grads["dW"] = self.x.T @ dout',
    ),
}


def _dense(way: str) -> tuple[str, str]:
    text = DENSE_RELU
    edits, statement = DENSE_WAYS[way]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text, statement


def _measured(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def _loud(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


@pytest.mark.parametrize("way", list(DENSE_WAYS))
def test_dense_parameters_in_a_dict_are_checked_and_clean(tmp_path, way):
    text, statement = _dense(way)
    path = planted(tmp_path, "dense_relu.py", text, statement, statement)
    report = check(path)
    assert _loud(report) == []
    assert _measured(report, "Dense") == {"x": "ok", "W": "ok", "b": "ok"}


@pytest.mark.parametrize("way", list(DENSE_WAYS))
def test_a_wrong_dense_gradient_in_a_dict_is_named_where_it_is_written(tmp_path, way):
    text, statement = _dense(way)
    path = planted(tmp_path, "dense_relu.py", text, statement, statement + " * 2")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["name"]) == ("BPD101", "gradient-mismatch")
    assert finding["line"] == line_of(path, statement + " * 2")
    assert "`Dense.W`" in finding["message"]
    assert "2 ×" in finding["message"]
    assert _measured(report, "Dense") == {"x": "ok", "W": "mismatch", "b": "ok"}


KERAS_LIKE = '''\
import numpy as np

rng = np.random.default_rng(7)


class Layer:
    def __init__(self):
        self.params = {}
        self.grads = {}

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


class Dense(Layer):
    def __init__(self, units, input_dim):
        super().__init__()
        self.params["kernel"] = rng.normal(0.0, np.sqrt(2.0 / input_dim), (input_dim, units))
        self.params["bias"] = np.zeros(units)

    def forward(self, x):
        self.inputs = x
        return x @ self.params["kernel"] + self.params["bias"]

    def backward(self, grad):
        self.grads["kernel"] = self.inputs.T @ grad
        self.grads["bias"] = grad.sum(axis=0)
        return grad @ self.params["kernel"].T


class Tanh(Layer):
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1.0 - self.out ** 2)


class SelfAttention(Layer):
    def __init__(self, dim, key_dim):
        super().__init__()
        self.Wq = rng.normal(0.0, 0.3, (dim, key_dim))
        self.Wk = rng.normal(0.0, 0.3, (dim, key_dim))
        self.Wv = rng.normal(0.0, 0.3, (dim, dim))
        self.params = {"Wq": self.Wq, "Wk": self.Wk, "Wv": self.Wv}
        self.scale = 1.0 / np.sqrt(key_dim)

    def forward(self, x):
        self.x = x
        self.q, self.k, self.v = x @ self.Wq, x @ self.Wk, x @ self.Wv
        s = self.q @ np.swapaxes(self.k, 1, 2) * self.scale
        s = s - s.max(axis=-1, keepdims=True)
        e = np.exp(s)
        self.a = e / e.sum(axis=-1, keepdims=True)
        return self.a @ self.v

    def backward(self, grad):
        da = grad @ np.swapaxes(self.v, 1, 2)
        dv = np.swapaxes(self.a, 1, 2) @ grad
        ds = self.a * (da - np.sum(da * self.a, axis=-1, keepdims=True)) * self.scale
        dq = ds @ self.k
        dk = np.swapaxes(ds, 1, 2) @ self.q
        rows = self.x.reshape(-1, self.x.shape[-1])
        self.grads["Wq"] = rows.T @ dq.reshape(-1, dq.shape[-1])
        self.grads["Wk"] = rows.T @ dk.reshape(-1, dk.shape[-1])
        self.grads["Wv"] = rows.T @ dv.reshape(-1, dv.shape[-1])
        return dq @ self.Wq.T + dk @ self.Wk.T + dv @ self.Wv.T


class MeanPool(Layer):
    def forward(self, x):
        self.steps = x.shape[1]
        return x.mean(axis=1)

    def backward(self, grad):
        return np.repeat(grad[:, None, :], self.steps, axis=1) / self.steps


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def fit(self, x, y, epochs=60, lr=0.05):
        for epoch in range(epochs):
            out = self.predict(x)
            loss = np.mean((out - y) ** 2)
            grad = 2.0 * (out - y) / out.size
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
            for layer in self.layers:
                for name in layer.params:
                    layer.params[name] -= lr * layer.grads[name]
            if epoch % 20 == 0:
                print(epoch, loss)


X = rng.normal(size=(32, 5, 6))
Y = np.tanh(X.sum(axis=1)[:, :2])
model = Sequential([SelfAttention(6, 4), MeanPool(), Dense(8, 6), Tanh(), Dense(2, 8)])
model.fit(X, Y)
'''


def test_keras_like_layers_with_dicts_are_checked_and_clean_with_their_training_step(tmp_path):
    path = planted(tmp_path, "model.py", KERAS_LIKE, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert _loud(report) == []
    assert _measured(report, "Dense") == {"x": "ok", "kernel": "ok", "bias": "ok"}
    assert _measured(report, "SelfAttention") == {"x": "ok", "Wq": "ok", "Wk": "ok", "Wv": "ok"}
    assert set(_measured(report, "training step").values()) == {"ok"}


KERAS_BUGS = [
    ('self.grads["kernel"] = self.inputs.T @ grad', 'self.grads["kernel"] = 2 * self.inputs.T @ grad', "Dense.kernel"),
    (
        'self.grads["Wk"] = rows.T @ dk.reshape(-1, dk.shape[-1])',
        'self.grads["Wk"] = rows.T @ dq.reshape(-1, dq.shape[-1])',
        "SelfAttention.Wk",
    ),
]


@pytest.mark.parametrize("correct, wrong, parameter", KERAS_BUGS, ids=["dense-kernel", "attention-key"])
def test_a_wrong_keras_like_gradient_in_a_dict_is_named_where_it_is_written(tmp_path, correct, wrong, parameter):
    path = planted(tmp_path, "model.py", KERAS_LIKE, correct, wrong)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["name"]) == ("BPD101", "gradient-mismatch")
    assert finding["line"] == line_of(path, wrong)
    assert f"`{parameter}`" in finding["message"]
    layer, name = parameter.split(".")
    assert _measured(report, layer)[name] == "mismatch"
    assert [v for p, v in _measured(report, layer).items() if p != name] == ["ok"] * (len(_measured(report, layer)) - 1)
