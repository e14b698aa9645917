"""A layer whose backward drops part of its derivative gets the corrected line in the user's names,
not only "re-derive it": dropout's kept mask (`return g * self.keep`, forward multiplies its input
by an array it kept, in the branch that trains), a leaky ReLU's negative slope
(`return g * np.where(self.inp > 0, 1.0, self.slope)`) and a softmax's Jacobian, of which only the
diagonal was written (`return self.out * (g - np.sum(g * self.out, axis=1, keepdims=True))`)."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

LAYERS = {
    "dropout": '''
class Layer:
    def __init__(self, p=0.2):
        self.p = p

    def forward(self, inp, train=True):
        if train:
            self.keep = (np.random.rand(*inp.shape) > self.p) / (1 - self.p)
            return inp * self.keep
        return inp

    def backward(self, g):
        return g * self.keep
''',
    "leaky": '''
class Layer:
    def __init__(self, slope=0.1):
        self.slope = slope

    def forward(self, inp, train=True):
        self.inp = inp
        return np.where(inp > 0, inp, self.slope * inp)

    def backward(self, g):
        return g * np.where(self.inp > 0, 1.0, self.slope)
''',
    "softmax": '''
class Layer:
    def forward(self, inp, train=True):
        e = np.exp(inp - inp.max(axis=1, keepdims=True))
        self.out = e / e.sum(axis=1, keepdims=True)
        return self.out

    def backward(self, g):
        return self.out * (g - np.sum(g * self.out, axis=1, keepdims=True))
''',
}

DRIVER = """

class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, inp, train=True):
        self.inp = inp
        return inp @ self.W + self.b

    def backward(self, g):
        self.dW = self.inp.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


np.random.seed(0)
X = np.random.randn(64, 3)
y = np.abs(X[:, :1]) - X[:, 1:2]
net = [Linear(3, 16), Layer(), Linear(16, 1)]
for epoch in range(50):
    out = X
    for layer in net:
        out = layer.forward(out)
    g = 2 * (out - y) / len(X)
    for layer in reversed(net):
        g = layer.backward(g)
    for layer in (net[0], net[2]):
        layer.W -= 0.05 * layer.dW
        layer.b -= 0.05 * layer.db
"""

WRONG = {
    "dropout": ("return g * self.keep", "return g", "return g * self.keep"),
    "leaky": ("np.where(self.inp > 0, 1.0, self.slope)", "np.where(self.inp > 0, 1.0, 0.0)", "return g * np.where(self.inp > 0, 1.0, self.slope)"),
    "softmax": (
        "return self.out * (g - np.sum(g * self.out, axis=1, keepdims=True))",
        "return g * self.out * (1 - self.out)",
        "return self.out * (g - np.sum(g * self.out, axis=1, keepdims=True))",
    ),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_the_right_layer_passes(tmp_path, kind):
    assert errors(check(planted(tmp_path, f"{kind}.py", "import numpy as np\n" + LAYERS[kind] + DRIVER, "", ""))) == []


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_the_part_left_out_is_written_back(tmp_path, kind):
    right, wrong, fix = WRONG[kind]
    path = planted(tmp_path, f"{kind}.py", "import numpy as np\n" + LAYERS[kind] + DRIVER, right, wrong)
    (finding,) = [f for f in errors(check(path)) if f["layer"] == "Layer"]
    assert finding["line"] == line_of(path, wrong)
    assert finding["fix"] == fix
