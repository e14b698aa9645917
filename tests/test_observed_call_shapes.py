"""Layers checked the way the program called them, whatever their arguments' shapes.

- `forward(x, W, b)`: the weights are arguments, not samples; only the input is cut to the
  first rows, the weights stay whole.
- a cell fed one column at a time (`x (30, 1)`) is one sample and is kept whole.
- `backward` returning `(dh_prev, dx, dc_prev)`, the input's gradient not first: the one result
  shaped like the input is its gradient.
"""

from __future__ import annotations

from tests.userfiles import check, errors, write

WEIGHTS_AS_ARGUMENTS = '''\
import numpy as np


class Affine:
    def forward(self, x, W, b):
        self.x, self.W = x, W
        return x @ W + b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


rng = np.random.default_rng(0)
layer = Affine()
W, b = rng.normal(size=(40, 5)), np.zeros(5)
out = layer.forward(rng.normal(size=(100, 40)), W, b)
layer.backward(np.ones_like(out))
'''

CELL = '''\
import numpy as np


class Cell:
    def __init__(self, n_in, n_hidden):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(n_hidden, n_in + n_hidden)) * 0.1
        self.b = np.zeros((n_hidden, 1))
        self.n_hidden = n_hidden

    def forward(self, x, h_prev, c_prev):
        self.z = np.vstack((h_prev, x))
        self.g = np.tanh(self.W @ self.z + self.b)
        self.c_prev = c_prev
        self.c = c_prev * 0.5 + self.g
        return np.tanh(self.c), self.c

    def backward(self, dh, dc_next=None):
        dc = dh * (1 - np.tanh(self.c) ** 2) + (0 if dc_next is None else dc_next)
        dg = dc * (1 - self.g ** 2)
        self.dW = dg @ self.z.T
        self.db = dg
        dz = self.W.T @ dg
        return dz[: self.n_hidden], dz[self.n_hidden:], dc * 0.5


rng = np.random.default_rng(1)
cell = Cell(30, 8)
h, c = np.zeros((8, 1)), np.zeros((8, 1))
for t in range(3):
    h, c = cell.forward(rng.normal(size=(30, 1)), h, c)
cell.backward(np.ones((8, 1)))
'''


def test_weights_given_as_arguments_are_not_cut_with_the_batch(tmp_path):
    report = check(write(tmp_path, "affine.py", WEIGHTS_AS_ARGUMENTS))
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "layer-raised"]


def test_a_cell_fed_one_column_returning_its_input_gradient_second_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "cell.py", CELL))
    assert errors(report) == []
    rows = [m for m in report["measurements"] if m["layer"] == "Cell"]
    assert {m["param"] for m in rows} >= {"x", "W", "b"}


def test_a_wrong_input_gradient_returned_second_is_still_found(tmp_path):
    path = write(tmp_path, "cell.py", CELL.replace("dz[self.n_hidden:]", "dz[self.n_hidden:] * 2"))
    (finding,) = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert finding["param"] == "x"
