"""A residual block whose forward adds its input to the branch (`return x + self.fc2.forward(...)`) and
whose backward returns only the branch's input gradient: the skip path's `g` is named as what is
missing (and the attribute the branch multiplies by is not mistaken for it)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Linear:
    def __init__(self, d_in, d_out, rng):
        self.W = rng.normal(0, 0.3, (d_in, d_out))
        self.b = np.zeros(d_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(0)
        return g @ self.W.T


class ResidualBlock:
    """out = x + W2 relu(W1 x)"""

    def __init__(self, d, rng):
        self.fc1 = Linear(d, d, rng)
        self.fc2 = Linear(d, d, rng)

    def forward(self, x):
        self.h = self.fc1.forward(x)
        self.mask = self.h > 0
        return x + self.fc2.forward(self.h * self.mask)

    def backward(self, g):
        gh = self.fc2.backward(g) * self.mask
        return g + self.fc1.backward(gh)


rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4))
Y = np.sin(X)
block1, block2 = ResidualBlock(4, rng), ResidualBlock(4, rng)
for it in range(300):
    out = block2.forward(block1.forward(X))
    loss = 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))
    g = (out - Y) / len(X)
    block1.backward(block2.backward(g))
    for blk in (block1, block2):
        for lin in (blk.fc1, blk.fc2):
            lin.W -= 0.05 * lin.dW
            lin.b -= 0.05 * lin.db
    if it % 60 == 0:
        print(it, loss)
'''

RIGHT = "return g + self.fc1.backward(gh)"


def test_the_block_with_its_skip_gradient_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "res.py", PROGRAM, RIGHT, RIGHT))) == []


def test_the_skip_gradient_left_out_is_named(tmp_path):
    path = planted(tmp_path, "res.py", PROGRAM, RIGHT, "return self.fc1.backward(gh)")
    (found,) = [f for f in errors(check(path)) if f["layer"] == "ResidualBlock"]
    assert (found["param"], found["line"], found["pattern"]) == ("x", line_of(path, "return self.fc1.backward(gh)"), "skip-connection-left-out")
    assert found["message"].endswith("so its input gradient is `g` plus the branch's: `return g + self.fc1.backward(gh)`")
