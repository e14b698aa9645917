"""A network that owns its weights and passes them to its layers (`Affine.forward(x, W, b)`
called as `forward(x, self.params["W1"], self.params["b1"])`, backward returning dx, dW, db) is
checked through its own calls: each such layer with the arrays the network gave it, each checked
like a parameter, and the network as a whole. Called with its input alone, the layer raised
TypeError, reported as the user's error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = '''\
from collections import OrderedDict

import numpy as np


class Affine:
    def forward(self, x, W, b):
        self.x, self.W = x, W
        return x @ W + b

    def backward(self, dout):
        dx = dout @ self.W.T
        dW = self.x.T @ dout
        db = dout.sum(axis=0)
        return dx, dW, db


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return -np.sum(t * np.log(self.y + 1e-12)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class TwoLayerNet:
    def __init__(self, input_size=7, hidden_size=6, output_size=4):
        self.params = {"W1": 0.1 * np.random.randn(input_size, hidden_size), "b1": np.zeros(hidden_size),
                       "W2": 0.1 * np.random.randn(hidden_size, output_size), "b2": np.zeros(output_size)}
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine()
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine()
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        x = self.layers["Affine1"].forward(x, self.params["W1"], self.params["b1"])
        x = self.layers["Relu1"].forward(x)
        return self.layers["Affine2"].forward(x, self.params["W2"], self.params["b2"])

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        dout, dW2, db2 = self.layers["Affine2"].backward(dout)
        dout = self.layers["Relu1"].backward(dout)
        dout, dW1, db1 = self.layers["Affine1"].backward(dout)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


net = TwoLayerNet()
'''


def test_the_correct_network_and_its_layers_are_clean(tmp_path):
    report = check(write(tmp_path, "two_layer_net.py", NETWORK))
    assert errors(report) == []
    checked = {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}
    assert {("Affine1", "W"), ("Affine1", "b"), ("Affine2", "x"), ("TwoLayerNet", "b1")} <= checked
    assert {b["what"]: b["shapes"] for b in report["built"]}["Affine1"] == "input (5, 7), W (7, 6), b (6,)"


def test_weights_passed_by_name_are_passed_so_too(tmp_path):
    text = NETWORK.replace('forward(x, self.params["W1"], self.params["b1"])', 'forward(x, b=self.params["b1"], W=self.params["W1"])')
    report = check(write(tmp_path, "two_layer_net.py", text))
    assert errors(report) == []
    assert ("Affine1", "b") in {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_a_layer_the_network_never_calls_leaves_the_others_fed_what_it_gave_them(tmp_path):
    text = NETWORK.replace('self.layers["Affine2"] = Affine()', 'self.layers["Affine2"] = Affine()\n        self.layers["Spare"] = Relu()')
    report = check(write(tmp_path, "two_layer_net.py", text))
    assert errors(report) == []
    assert ("Affine2", "W") in {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_a_bias_gradient_summed_over_the_wrong_axis_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "db = dout.sum(axis=0)", "db = dout.sum(axis=1)")
    found = errors(check(path))
    assert found and all(f["name"] != "layer-raised" for f in found)
    assert found[0]["line"] == line_of(path, "db = dout.sum(axis=1)")
    # the class on its own, and each of the network's two layers given its weights
    assert {"Affine1", "Affine2"} <= {f["layer"] for f in found if f["line"] == found[0]["line"]}


def test_a_wrong_input_gradient_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "dx = dout @ self.W.T", "dx = dout @ self.W.T * 0.5")
    found = errors(check(path))
    assert found and found[0]["name"] == "gradient-mismatch"
    assert found[0]["line"] == line_of(path, "dx = dout @ self.W.T * 0.5")



TRAINING = '''
x = np.random.randn(20, 7)
t = np.eye(4)[np.random.randint(0, 4, 20)]
for step in range(30):
    grads = net.gradient(x, t)
    for key in net.params:
        net.params[key] -= 0.1 * grads[key]
    print(net.loss(x, t))
'''


def test_a_network_whose_training_ran_is_checked_as_one_chain(tmp_path):
    """The observed run sees each Affine given three arrays; the two the network owns do not
    make its layers a graph that cannot be chained (which left the network and the layers'
    weight gradients unchecked)."""
    report = check(write(tmp_path, "train.py", NETWORK + TRAINING), training=True)
    assert errors(report) == []
    checked = {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}
    assert {("Affine1", "b"), ("TwoLayerNet", "W1")} <= checked


def test_a_wrong_bias_gradient_of_a_network_whose_training_ran_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "train.py", NETWORK + TRAINING, "db = dout.sum(axis=0)", "db = dout.sum(axis=1)")
    found = errors(check(path, training=True))
    assert found and found[0]["line"] == line_of(path, "db = dout.sum(axis=1)")


def _kept_in_attributes(text: str) -> str:
    """The network with an Affine whose backward keeps dW and db (`self.dW = ...`) and returns dx."""
    text = text.replace(
        "        db = dout.sum(axis=0)\n        return dx, dW, db\n",
        "        self.dW = dW\n        self.db = dout.sum(axis=0)\n        return dx\n",
    )
    for layer in ("Affine2", "Affine1"):
        text = text.replace(f'dout, dW{layer[-1]}, db{layer[-1]} = self.layers["{layer}"].backward(dout)', f'dout = self.layers["{layer}"].backward(dout)')
    return text.replace(
        'return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}',
        'return {f"{p}{i}": getattr(self.layers[f"Affine{i}"], f"d{p}") for i in (1, 2) for p in ("W", "b")}',
    )


def test_gradients_kept_in_attributes_are_read_there(tmp_path):
    report = check(write(tmp_path, "two_layer_net.py", _kept_in_attributes(NETWORK)))
    assert errors(report) == []
    assert ("Affine1", "b") in {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_a_wrong_gradient_kept_in_an_attribute_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", _kept_in_attributes(NETWORK), "self.db = dout.sum(axis=0)", "self.db = 2 * dout.sum(axis=0)")
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, "self.db = 2 * dout.sum(axis=0)")


AFFINE_ALONE = NETWORK[: NETWORK.index("class Relu:")]


def test_a_layer_given_its_weights_is_checked_on_its_own_too(tmp_path):
    """With no network in its file, the layer is given a weight matrix and a bias of the
    shapes its argument names ask for."""
    report = check(write(tmp_path, "affine.py", AFFINE_ALONE))
    assert errors(report) == []
    assert {("Affine", "W"), ("Affine", "b")} <= {(m["layer"], m["param"]) for m in report["measurements"] if m["verdict"] == "ok"}


def test_a_wrong_weight_gradient_of_that_layer_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "affine.py", AFFINE_ALONE, "dW = self.x.T @ dout", "dW = self.x.T @ dout / 2")
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, "dW = self.x.T @ dout / 2")
