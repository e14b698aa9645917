"""A layer whose `backward` hands the work to another method of its class and only reshapes or
returns what that method gives back (`dx = self.__backward(dout)`, `dx = dx.reshape(...)`, as the
book's BatchNormalization does; `return self._input_grad(g)`): a wrong input gradient is named at
the line of that method that computes it, not at the reshape or the call. The correct layers are
clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

NORM = '''\
import numpy as np


class Norm:
    def __init__(self, width):
        self.g = np.ones(width)
        self.shift = np.zeros(width)

    def forward(self, x):
        self.shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.n = x.shape[0]
        self.c = x - x.mean(axis=0)
        self.s = np.sqrt((self.c ** 2).mean(axis=0) + 1e-5)
        self.h = self.c / self.s
        return (self.g * self.h + self.shift).reshape(*self.shape)

    def backward(self, dout):
        dx = self.__inner(dout.reshape(dout.shape[0], -1))
        dx = dx.reshape(*self.shape)
        return dx

    def __inner(self, dy):
        self.dshift = dy.sum(axis=0)
        self.dg = (self.h * dy).sum(axis=0)
        dh = self.g * dy
        dc = dh / self.s
        ds = -((dh * self.c) / self.s ** 2).sum(axis=0)
        dc += self.c * (ds / self.s) / self.n
        dm = dc.sum(axis=0)
        dx = dc - dm / self.n
        return dx


np.random.seed(0)
x = np.random.randn(32, 6) * 3 + 1
t = np.random.randn(32, 6)
layer = Norm(6)
for i in range(50):
    y = layer.forward(x)
    loss = 0.5 * np.sum((y - t) ** 2) / len(x)
    layer.backward((y - t) / len(x))
    layer.g -= 0.1 * layer.dg
    layer.shift -= 0.1 * layer.dshift
'''

SOFTPLUS = '''\
import numpy as np


class Softplus:
    def forward(self, z):
        self.z = z
        return np.log1p(np.exp(z))

    def backward(self, grad):
        return self._input_grad(grad)

    def _input_grad(self, grad):
        slope = 1.0 / (1.0 + np.exp(-self.z))
        return grad * slope


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.dW = self.x.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T


rng = np.random.default_rng(8)
X = rng.normal(size=(80, 3))
Y = np.abs(X[:, :1]) + X[:, 1:2]
net = [Affine(rng.normal(0, 0.6, (3, 10)), np.zeros(10)), Softplus(), Affine(rng.normal(0, 0.3, (10, 1)), np.zeros(1))]
for step in range(300):
    out = X
    for m in net:
        out = m.forward(out)
    loss = np.mean((out - Y) ** 2)
    g = 2 * (out - Y) / len(X)
    for m in reversed(net):
        g = m.backward(g)
    for m in (net[0], net[2]):
        m.W -= 0.05 * m.dW
        m.b -= 0.05 * m.db
'''

CASES = {  # (program, right line, wrong line, layer, the lines of the computing method a finding may name)
    "private method, reshaped": (NORM, "dx = dc - dm / self.n", "dx = dc", "Norm", ("dx = dc",)),
    "returned call": (
        SOFTPLUS, "slope = 1.0 / (1.0 + np.exp(-self.z))", "slope = 1.0 / (1.0 + np.exp(self.z))", "Softplus",
        ("slope = 1.0 / (1.0 + np.exp(self.z))", "return grad * slope"),  # the statement returned, computed from the wrong slope
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_input_gradient_is_named_inside_the_method_that_computes_it(tmp_path, case):
    text, right, wrong, layer, inside = CASES[case]
    path = planted(tmp_path, "layer.py", text, right, wrong)
    found = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch" and f.get("layer") == layer and f.get("param") == "x"]
    assert len(found) == 1 and found[0]["line"] in [line_of(path, s) for s in inside], found


@pytest.mark.parametrize("case", CASES)
def test_the_correct_delegating_layers_are_clean(tmp_path, case):
    report = check(write(tmp_path, "layer.py", CASES[case][0]))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    assert any(m["layer"] == CASES[case][3] and m["param"] == "x" and m["verdict"].startswith("ok") for m in report["measurements"])
