"""An activation's derivative written out with its input where its output belongs: `1 - self.z1 ** 2`
beside `self.a1 = np.tanh(self.z1)`, `z1 * (1 - z1)` beside `a1 = sigmoid(z1)`. Named at that
expression with the fix written with the program's own output name, not at the gradient computed
from it.

Two styles: a blog-style network class that updates inside `backprop()`, and a flat script.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

BLOG = '''\
import numpy as np


class Net:
    def __init__(self, x, y, hidden=5):
        self.input, self.y = x, y
        self.w1 = np.random.rand(x.shape[1], hidden) - 0.5
        self.w2 = np.random.rand(hidden, 1) - 0.5

    def feedforward(self):
        self.z1 = self.input @ self.w1
        self.a1 = np.tanh(self.z1)
        self.out = 1 / (1 + np.exp(-(self.a1 @ self.w2)))

    def loss(self):
        return np.sum((self.out - self.y) ** 2)

    def backprop(self, lr=0.05):
        d_out = 2 * (self.out - self.y) * self.out * (1 - self.out)
        d_w2 = self.a1.T @ d_out
        d_a1 = (d_out @ self.w2.T) * (1 - self.a1 ** 2)
        d_w1 = self.input.T @ d_a1
        self.w1 -= lr * d_w1
        self.w2 -= lr * d_w2


np.random.seed(4)
X = np.hstack([np.random.uniform(-1, 1, (40, 2)), np.ones((40, 1))])
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
net = Net(X, y)
for i in range(1000):
    net.feedforward()
    if i % 200 == 0:
        print(i, net.loss())
    net.backprop()
'''

FLAT = '''\
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


rng = np.random.default_rng(2)
X = rng.normal(size=(80, 3))
Y = (X[:, :1] - X[:, 1:2] > 0).astype(float)
W1, W2 = rng.normal(size=(3, 6)) * 0.5, rng.normal(size=(6, 1)) * 0.5
for epoch in range(400):
    z1 = X @ W1
    a1 = sigmoid(z1)
    out = a1 @ W2
    loss = 0.5 * np.mean((out - Y) ** 2)
    d_out = (out - Y) / len(X)
    d_z1 = (d_out @ W2.T) * a1 * (1 - a1)
    W2 -= 0.5 * a1.T @ d_out
    W1 -= 0.5 * X.T @ d_z1
    if epoch % 80 == 0:
        print(epoch, loss)
'''


@pytest.mark.parametrize(
    "text, correct, wrong, slope, fix",
    [
        (BLOG, "* (1 - self.a1 ** 2)", "* (1 - self.z1 ** 2)", "1 - self.z1 ** 2", "1 - self.a1 ** 2"),
        (FLAT, "* a1 * (1 - a1)", "* z1 * (1 - z1)", "z1 * (1 - z1)", "a1 * (1 - a1)"),
    ],
    ids=["blog-class", "flat-script"],
)
def test_a_derivative_written_with_the_input_is_named_with_its_fix(tmp_path, text, correct, wrong, slope, fix):
    path = planted(tmp_path, "net.py", text, correct, wrong)
    found = errors(check(path, training=True))
    assert found and found[0]["line"] == line_of(path, wrong)
    assert f"`{fix}`" in found[0]["message"]  # the derivative with the output, where the line wrote it with the input


@pytest.mark.parametrize("text", [BLOG, FLAT], ids=["blog-class", "flat-script"])
def test_derivatives_written_with_the_output_are_clean(tmp_path, text):
    path = planted(tmp_path, "net.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path, training=True)) == []
