"""step-decay-wrong (BPD639) where the decay's strength is an attribute of the same object as the weight:
`self.W *= self.wd` in a layer's own `step(self)`, `layer.W *= layer.decay` in the loop. The factor reads
the object that holds the weight, but not the weight itself: a setting, measured like any other.

Two styles, each with a twin multiplying by `1 - lr * wd` that is clean; and a pruning layer that multiplies
its weight by a mask it holds (`self.W *= self.mask`): an array of factors, not a decay, also clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

# the decay in the layer's own step method, its strength and rate held by the layer
METHOD = '''\
import numpy as np


class Affine:
    def __init__(self, fan_in, fan_out, gen, rate=0.3, decay=5e-4):
        self.W = gen.normal(size=(fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        self.c = np.zeros(fan_out)
        self.rate = rate
        self.decay = decay

    def forward(self, x):
        self.inp = x
        return x @ self.W + self.c

    def backward(self, up):
        self.gW = self.inp.T @ up
        self.gc = up.sum(axis=0)
        return up @ self.W.T

    def step(self):
        self.W *= 1 - self.rate * self.decay
        self.W -= self.rate * self.gW
        self.c -= self.rate * self.gc


class Relu:
    def forward(self, x):
        self.on = x > 0
        return x * self.on

    def backward(self, up):
        return up * self.on

    def step(self):
        pass


gen = np.random.default_rng(31)
X = gen.normal(size=(200, 6))
T = np.stack([X[:, 0] - X[:, 1] * X[:, 2], np.abs(X[:, 3])], axis=1)
stack = [Affine(6, 24, gen), Relu(), Affine(24, 2, gen)]
for it in range(250):
    a = X
    for mod in stack:
        a = mod.forward(a)
    loss = np.mean((a - T) ** 2)
    up = 2 * (a - T) / a.size
    for mod in reversed(stack):
        up = mod.backward(up)
    for mod in stack:
        mod.step()
    if it % 50 == 0:
        print(it, loss)
'''
METHOD_WRONG = ("self.W *= 1 - self.rate * self.decay", "self.W *= self.decay")

# the decay written in the loop, its strength an attribute of each layer
LOOP = '''\
import numpy as np


class Layer:
    def __init__(self, n_in, n_out, r, wd):
        self.W = r.normal(size=(n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)
        self.wd = wd


r = np.random.default_rng(44)
X = r.normal(size=(150, 4))
lab = (X[:, 0] * X[:, 3] > 0).astype(int)
Y = np.eye(2)[lab]
layers = [Layer(4, 16, r, 1e-3), Layer(16, 2, r, 1e-3)]
lr = 0.4
for epoch in range(300):
    h = np.tanh(X @ layers[0].W + layers[0].b)
    s = h @ layers[1].W + layers[1].b
    e = np.exp(s - s.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(X)), lab]))
    ds = (p - Y) / len(X)
    dh = ds @ layers[1].W.T * (1 - h ** 2)
    layers[1].dW, layers[1].db = h.T @ ds, ds.sum(axis=0)
    layers[0].dW, layers[0].db = X.T @ dh, dh.sum(axis=0)
    for layer in layers:
        layer.W *= (1 - lr * layer.wd)
        layer.W -= lr * layer.dW
        layer.b -= lr * layer.db
    if epoch % 60 == 0:
        print(epoch, loss)
'''
LOOP_WRONG = ("layer.W *= (1 - lr * layer.wd)", "layer.W *= layer.wd")

# a pruned layer: its weight multiplied by a 0/1 mask it holds at every step, on purpose
MASKED = METHOD.replace(
    "        self.decay = decay\n", "        self.decay = decay\n        self.mask = (gen.random(self.W.shape) > 0.6).astype(float)\n"
).replace("        self.W *= 1 - self.rate * self.decay\n", "        self.W *= self.mask\n")


@pytest.mark.parametrize("text, swap, fix", [
    (METHOD, METHOD_WRONG, "self.W *= (1 - self.rate * self.decay)"),
    (LOOP, LOOP_WRONG, "layer.W *= (1 - lr * layer.wd)"),
], ids=["layer-step-method", "layer-attribute-in-loop"])  # fmt: skip
def test_a_decay_by_the_layers_own_setting_is_named(tmp_path, text, swap, fix):
    path = planted(tmp_path, "train.py", text, *swap)
    report = check(path, training=True)
    found = [f for f in errors(report) if f["name"] == "step-decay-wrong"]
    assert len(found) == 1, [(f["name"], f["line"]) for f in report["findings"]]
    (finding,) = found
    assert finding["line"] == line_of(path, swap[1]) and finding["code"] == "BPD639"
    assert finding["measured"] < 0.01 and finding["fix"] == fix, finding


@pytest.mark.parametrize("text", [METHOD, LOOP, MASKED], ids=["layer-step-method", "layer-attribute-in-loop", "pruning-mask"])
def test_a_decay_just_below_one_or_a_mask_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert [f for f in report["findings"] if f["name"] == "step-decay-wrong"] == [] and errors(report) == [], [
        (f["name"], f["line"], f["message"][:120]) for f in report["findings"]
    ]
