"""A layer class that switches on its own setting (`Act("tanh")`, `Act("relu")`) and returns each
branch's input gradient as an expression, with no name bound to it: a wrong gradient of the branch
that ran is named at that branch's `return`, not at the method's last `return` (a right branch of
another activation, which the wrong instance never runs). The correct twins are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

SWITCHED = '''\
import numpy as np


class Act:
    def __init__(self, kind):
        self.kind = kind

    def forward(self, x):
        self.x = x
        if self.kind == "tanh":
            self.y = np.tanh(x)
        elif self.kind == "sigmoid":
            self.y = 1 / (1 + np.exp(-x))
        else:
            self.y = np.maximum(x, 0)
        return self.y

    def backward(self, g):
        if self.kind == "tanh":
            return g * (1 - self.y ** 2)
        elif self.kind == "sigmoid":
            return g * self.y * (1 - self.y)
        else:
            return g * (self.x > 0)


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


rng = np.random.default_rng(3)
X = rng.normal(size=(96, 3))
Y = np.sin(X.sum(axis=1, keepdims=True))
net = [Dense(3, 12, rng), Act("tanh"), Dense(12, 12, rng), Act("relu"), Dense(12, 1, rng)]
for step in range(400):
    out = X
    for layer in net:
        out = layer.forward(out)
    loss = 0.5 * np.mean((out - Y) ** 2)
    g = (out - Y) / len(X)
    for layer in reversed(net):
        g = layer.backward(g)
    for layer in net:
        if isinstance(layer, Dense):
            layer.W -= 0.2 * layer.dW
            layer.b -= 0.2 * layer.db
    if step % 100 == 0:
        print(step, loss)
'''

MODES = '''\
import numpy as np


class Squash:
    """sigmoid or softsign, chosen when built"""

    def __init__(self, soft=False):
        self.soft = soft

    def forward(self, z):
        self.z = z
        if self.soft:
            self.a = z / (1 + np.abs(z))
            return self.a
        self.a = 1 / (1 + np.exp(-z))
        return self.a

    def backward(self, d):
        if self.soft:
            return d / (1 + np.abs(self.z)) ** 2
        return d * self.a * (1 - self.a)


class Affine:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, d):
        self.dW = self.x.T @ d
        return d @ self.W.T


np.random.seed(0)
inputs = np.random.randn(64, 4)
targets = (inputs[:, :1] > inputs[:, 1:2]).astype(float)
layers = [Affine(np.random.randn(4, 10) * 0.5), Squash(soft=True), Affine(np.random.randn(10, 1) * 0.5), Squash()]
for epoch in range(300):
    a = inputs
    for layer in layers:
        a = layer.forward(a)
    cost = np.mean((a - targets) ** 2)
    d = 2 * (a - targets) / len(inputs)
    for layer in reversed(layers):
        d = layer.backward(d)
    for layer in layers:
        if isinstance(layer, Affine):
            layer.W -= 0.5 * layer.dW
    if epoch % 50 == 0:
        print(epoch, cost)
'''

CASES = {
    "switched": (SWITCHED, "return g * (1 - self.y ** 2)", "return g * (1 - self.x ** 2)", "Act"),
    "modes": (MODES, "return d / (1 + np.abs(self.z)) ** 2", "return d / (1 + np.abs(self.z))", "Squash"),
}


@pytest.mark.parametrize("style", CASES)
def test_a_wrong_branch_is_named_at_its_own_return(tmp_path, style):
    text, right, wrong, layer = CASES[style]
    path = planted(tmp_path, "net.py", text, right, wrong)
    report = check(path)
    (error,) = [f for f in errors(report) if f.get("layer") == layer and f["name"] == "gradient-mismatch"]
    assert error["line"] == line_of(path, wrong), error["message"]


@pytest.mark.parametrize("style", CASES)
def test_the_correct_switched_layers_are_clean(tmp_path, style):
    report = check(write(tmp_path, "net.py", CASES[style][0]))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    assert any(m["layer"] == CASES[style][3] and m["param"] == "x" for m in report["measurements"])
