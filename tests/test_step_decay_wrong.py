"""A weight decay written as a factor far from 1 beside the gradient step (`P *= wd` for
`P *= (1 - lr * wd)`): the replay measures the statement's factor on each parameter (after ÷ before)
and names the statement, an error, not a set-up that cannot fit.

Three styles: a dict of parameters decayed key by key in a loop of its own after the step
(`for k in params: params[k] *= decay`), and a list of layer objects each decayed and stepped
(`layer.W *= wd`) in the loop, or in the layer's own `update` method. The twins multiply by `1 - lr * wd` and are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

DICT = '''\
import numpy as np


def loss_and_grads(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    loss = 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))
    dout = (out - y) / len(X)
    dh = dout @ params["W2"].T * (1 - h ** 2)
    return loss, {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dout, "b2": dout.sum(axis=0)}


rng = np.random.default_rng(3)
X = rng.normal(size=(120, 4))
y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
params = {"W1": rng.normal(size=(4, 16)) * 0.5, "b1": np.zeros(16), "W2": rng.normal(size=(16, 2)) * 0.3, "b2": np.zeros(2)}
lr, decay = 0.1, 5e-4
for epoch in range(400):
    loss, grads = loss_and_grads(params, X, y)
    for k in params:
        params[k] -= lr * grads[k]
    for k in params:
        params[k] *= (1 - lr * decay)
    if epoch % 100 == 0:
        print(epoch, loss)
'''
DICT_WRONG = ("params[k] *= (1 - lr * decay)", "params[k] *= decay")

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y ** 2)


rng = np.random.default_rng(5)
X = rng.normal(size=(150, 3))
labels = (X[:, 0] * X[:, 1] > 0).astype(int)
Y = np.eye(2)[labels]
net = [Dense(3, 12, rng), Tanh(), Dense(12, 2, rng)]
dense = [layer for layer in net if isinstance(layer, Dense)]
lr, wd = 0.5, 1e-3
for step in range(300):
    a = X
    for layer in net:
        a = layer.forward(a)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(p + 1e-12), axis=1))
    g = (p - Y) / len(X)
    for layer in reversed(net):
        g = layer.backward(g)
    for layer in dense:
        layer.W *= (1 - lr * wd)
        layer.W -= lr * layer.dW
        layer.b -= lr * layer.db
    if step % 50 == 0:
        print(step, loss)
'''
LAYERS_WRONG = ("layer.W *= (1 - lr * wd)", "layer.W *= wd")

# the decay inside the layer's own update method, which the loop calls
METHOD = '''\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T

    def update(self, lr, wd):
        self.W *= (1 - lr * wd)
        self.W -= lr * self.dW
        self.b -= lr * self.db


rng = np.random.default_rng(5)
X = rng.normal(size=(150, 3))
Y = np.stack([X[:, 0] * X[:, 1], X[:, 2]], axis=1)
l1, l2 = Linear(3, 12, rng), Linear(12, 2, rng)
lr, wd = 0.05, 1e-3
for step in range(300):
    h = np.tanh(l1.forward(X))
    out = l2.forward(h)
    loss = 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))
    g = l2.backward((out - Y) / len(X))
    l1.backward(g * (1 - h ** 2))
    l1.update(lr, wd)
    l2.update(lr, wd)
'''
METHOD_WRONG = ("self.W *= (1 - lr * wd)", "self.W *= wd")


@pytest.mark.parametrize(
    "text, swap", [(DICT, DICT_WRONG), (LAYERS, LAYERS_WRONG), (METHOD, METHOD_WRONG)], ids=["params-dict", "layer-objects", "update-method"]
)
def test_a_decay_that_multiplies_by_the_setting_itself_is_named(tmp_path, text, swap):
    correct, wrong = swap
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    found = [f for f in errors(report) if f["name"] == "step-decay-wrong"]
    assert len(found) == 1, [(f["name"], f["line"]) for f in report["findings"]]
    finding = found[0]
    assert (finding["code"], finding["pattern"], finding["line"]) == ("BPD639", "decay-factor-wrong", line_of(path, wrong))
    assert "multiplies the weights by" in finding["message"] and "1 - " in finding["message"]
    assert report["findings"][report["root_cause"]]["name"] == "step-decay-wrong"
    assert not [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]


@pytest.mark.parametrize("text", [DICT, LAYERS, METHOD], ids=["params-dict", "layer-objects", "update-method"])
def test_a_decay_just_below_one_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert [(f["name"], f["line"]) for f in report["findings"] if f["severity"] != "info"] == []
