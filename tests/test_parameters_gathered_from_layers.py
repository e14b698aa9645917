"""A network whose parameters are gathered into a dict that holds the very arrays its layers compute
with (a dataclass model's `self.weights = {...: getattr(layer, name)}` built in `__post_init__`; a
function's `collect(layers)` handed to `loss_and_gradients(params, layers, X, y)` beside the layers
themselves, held in `__slots__`) is checked on a copy that keeps that sharing: moving an array of the
dict moves the layer's array too. It read as "the numerical gradient is zero" for every parameter (the
check's own copy had parted them), on correct programs and in place of a real mistake in backward."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

DATACLASS_MODEL = """\
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Affine:
    weight: np.ndarray
    bias: np.ndarray
    saved: dict = field(default_factory=dict)

    def forward(self, a):
        self.saved["a"] = a
        return a @ self.weight + self.bias

    def backward(self, up):
        a = self.saved["a"]
        return up @ self.weight.T, {"weight": a.T @ up, "bias": up.sum(axis=0)}


@dataclass
class Tanh:
    saved: dict = field(default_factory=dict)

    def forward(self, a):
        self.saved["t"] = np.tanh(a)
        return self.saved["t"]

    def backward(self, up):
        return up * (1.0 - self.saved["t"] ** 2), {}


@dataclass
class Regressor:
    stack: list
    weights: dict = field(init=False)

    def __post_init__(self):
        self.weights = {}
        for i, layer in enumerate(self.stack):
            for name in ("weight", "bias"):
                if hasattr(layer, name):
                    self.weights[f"{name}{i}"] = getattr(layer, name)

    def loss_and_gradients(self, X, Y):
        out = X
        for layer in self.stack:
            out = layer.forward(out)
        diff = out - Y
        loss = 0.5 * np.mean(np.sum(diff ** 2, axis=1))
        up = diff / len(X)
        gradients = {}
        for i in range(len(self.stack) - 1, -1, -1):
            up, own = self.stack[i].backward(up)
            for name, g in own.items():
                gradients[f"{name}{i}"] = g
        return loss, gradients


rng = np.random.default_rng(4)
X = rng.normal(size=(96, 3))
Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]], axis=1)
model = Regressor([
    Affine(rng.normal(0, 0.6, (3, 12)), np.zeros(12)),
    Tanh(),
    Affine(rng.normal(0, 0.4, (12, 2)), np.zeros(2)),
])
for step in range(200):
    loss, gradients = model.loss_and_gradients(X, Y)
    for key, value in model.weights.items():
        value -= 0.1 * gradients[key]
    if step % 50 == 0:
        print(step, round(loss, 4))
"""

SLOTS_LAYERS = """\
import numpy as np


class Layer:
    __slots__ = ("kernel", "offset", "inputs", "outputs")

    def __init__(self, kernel, offset):
        self.kernel = kernel
        self.offset = offset
        self.inputs = None
        self.outputs = None


def collect(layers):
    # every trainable array, by name: the same objects the layers hold
    found = {}
    for n, layer in enumerate(layers):
        found["k%d" % n] = layer.kernel
        found["o%d" % n] = layer.offset
    return found


def loss_and_gradients(params, layers, X, labels):
    h = X
    for n, layer in enumerate(layers):
        layer.inputs = h
        z = h @ layer.kernel + layer.offset
        h = np.maximum(z, 0.0) if n < len(layers) - 1 else z
        layer.outputs = h
    z = h - h.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    m = len(labels)
    loss = -np.log(p[np.arange(m), labels]).mean()
    delta = p.copy()
    delta[np.arange(m), labels] -= 1.0
    delta /= m
    grads = {}
    for n in reversed(range(len(layers))):
        layer = layers[n]
        grads["k%d" % n] = layer.inputs.T @ delta
        grads["o%d" % n] = delta.sum(axis=0)
        if n > 0:
            delta = (delta @ layer.kernel.T) * (layers[n - 1].outputs > 0)
    return loss, grads


rng = np.random.default_rng(11)
X = rng.normal(size=(120, 5))
labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1).astype(int)
layers = [Layer(rng.normal(0, 0.5, (5, 16)), np.zeros(16)), Layer(rng.normal(0, 0.3, (16, 3)), np.zeros(3))]
params = collect(layers)
for step in range(200):
    loss, grads = loss_and_gradients(params, layers, X, labels)
    for name in params:
        params[name] -= 0.3 * grads[name]
    if step % 50 == 0:
        print(step, round(loss, 4))
"""

NAMEDTUPLE_LAYERS = """\
import numpy as np


from collections import namedtuple

Layer = namedtuple("Layer", "kernel offset")


def collect(layers):
    # every trainable array, by name: the same objects the layers hold
    found = {}
    for n, layer in enumerate(layers):
        found["k%d" % n] = layer.kernel
        found["o%d" % n] = layer.offset
    return found


def loss_and_gradients(params, layers, X, labels):
    h = X
    inputs, outputs = [], []
    for n, layer in enumerate(layers):
        inputs.append(h)
        z = h @ layer.kernel + layer.offset
        h = np.maximum(z, 0.0) if n < len(layers) - 1 else z
        outputs.append(h)
    z = h - h.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    m = len(labels)
    loss = -np.log(p[np.arange(m), labels]).mean()
    delta = p.copy()
    delta[np.arange(m), labels] -= 1.0
    delta /= m
    grads = {}
    for n in reversed(range(len(layers))):
        layer = layers[n]
        grads["k%d" % n] = inputs[n].T @ delta
        grads["o%d" % n] = delta.sum(axis=0)
        if n > 0:
            delta = (delta @ layer.kernel.T) * (outputs[n - 1] > 0)
    return loss, grads


rng = np.random.default_rng(11)
X = rng.normal(size=(120, 5))
labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1).astype(int)
layers = [Layer(rng.normal(0, 0.5, (5, 16)), np.zeros(16)), Layer(rng.normal(0, 0.3, (16, 3)), np.zeros(3))]
params = collect(layers)
for step in range(200):
    loss, grads = loss_and_gradients(params, layers, X, labels)
    for name in params:
        params[name] -= 0.3 * grads[name]
    if step % 50 == 0:
        print(step, round(loss, 4))
"""


def _zero_numerical(report: dict) -> list[dict]:
    return [f for f in report["findings"] if "numerical gradient is zero" in f["message"]]


def test_the_dataclass_model_passes(tmp_path):
    report = check(planted(tmp_path, "regressor.py", DATACLASS_MODEL, "", ""))
    assert [f for f in report["findings"] if f["code"] == "BPD101"] == []


def test_the_slots_layers_pass(tmp_path):
    report = check(planted(tmp_path, "classifier.py", SLOTS_LAYERS, "", ""))
    assert [f for f in report["findings"] if f["code"] == "BPD101"] == []


def test_a_wrong_derivative_in_a_dataclass_layer_is_named_not_a_zero_gradient(tmp_path):
    path = planted(tmp_path, "regressor.py", DATACLASS_MODEL, '(1.0 - self.saved["t"] ** 2)', '(1.0 - self.saved["t"])')
    report = check(path)
    assert _zero_numerical(report) == []
    wrong = {f["param"] for f in errors(report) if f["code"] == "BPD101"}
    assert {"weight0", "bias0"} <= wrong and not wrong & {"weight2", "bias2"}
    # the model's gradients come from its layers' backward passes: it is not told it has none
    assert not any("with no layers" in f["message"] for f in errors(report))


def test_a_wrong_mask_between_slots_layers_is_named_not_a_zero_gradient(tmp_path):
    path = planted(tmp_path, "classifier.py", SLOTS_LAYERS, "(layers[n - 1].outputs > 0)", "(layers[n - 1].outputs >= 0)")
    report = check(path)
    assert _zero_numerical(report) == []
    wrong = {f["param"] for f in errors(report) if f["code"] == "BPD101"}
    assert wrong == {"k0", "o0"}


def test_a_dataclass_model_whose_update_rebinds_the_dict_is_named_at_the_update(tmp_path):
    update = "model.weights[key] = model.weights[key] - 0.1 * gradients[key]"
    path = planted(tmp_path, "regressor.py", DATACLASS_MODEL, "value -= 0.1 * gradients[key]", update)
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"]) for f in found] == [("BPD401", line_of(path, update))]


def test_slots_layers_whose_update_rebinds_the_dict_are_named_at_the_update(tmp_path):
    update = "params[name] = params[name] - 0.3 * grads[name]"
    path = planted(tmp_path, "classifier.py", SLOTS_LAYERS, "params[name] -= 0.3 * grads[name]", update)
    found = errors(check(path, training=True))
    assert [(f["code"], f["line"]) for f in found] == [("BPD401", line_of(path, update))]


def test_namedtuple_layers_pass(tmp_path):
    # the recorded call keeps its layers namedtuples (`layer.kernel`), their arrays the dict's own
    report = check(planted(tmp_path, "classifier.py", NAMEDTUPLE_LAYERS, "", ""))
    assert [f for f in report["findings"] if f["severity"] != "info"] == []


def test_a_wrong_mask_between_namedtuple_layers_is_named(tmp_path):
    path = planted(tmp_path, "classifier.py", NAMEDTUPLE_LAYERS, "(outputs[n - 1] > 0)", "(outputs[n - 1] >= 0)")
    wrong = {f["param"] for f in errors(check(path)) if f["code"] == "BPD101"}
    assert wrong == {"k0", "o0"}
