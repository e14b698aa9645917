"""A softmax defined in the module a program imports its model from (`from model import MLP` in
`train.py`, `softmax` in `model.py`) is probed like one of the checked file: the file never names it,
but the model calls it. One that shifts each row by its maximum and then sums down the columns
(`z.max(axis=1)` beside `e.sum(axis=0)`) is wrong whichever way the samples lie, so it is an error
at its line in `model.py`, even though no call shows the layout.
"""

from __future__ import annotations

from tests.userfiles import check, errors, write

MODEL = '''\
import numpy as np


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class MLP:
    def __init__(self, n_in, n_hidden, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0.0, np.sqrt(1.0 / n_hidden), (n_hidden, n_out))
        self.b2 = np.zeros(n_out)

    def parameters(self):
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def loss(self, X, y):
        self.X = X
        self.a1 = X @ self.W1 + self.b1
        self.h1 = np.maximum(self.a1, 0.0)
        self.P = softmax(self.h1 @ self.W2 + self.b2)
        return -np.mean(np.log(self.P[np.arange(len(X)), y] + 1e-12))

    def backward(self, y):
        d = self.P.copy()
        d[np.arange(len(y)), y] -= 1.0
        d /= len(y)
        dh = d @ self.W2.T * (self.a1 > 0)
        return {"W2": self.h1.T @ d, "b2": d.sum(axis=0), "W1": self.X.T @ dh, "b1": dh.sum(axis=0)}
'''

TRAIN = '''\
import numpy as np

from model import MLP

rng = np.random.default_rng(2)
X = rng.normal(size=(240, 2))
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
model = MLP(2, 32, 3)
for epoch in range(200):
    model.loss(X, y)
    grads = model.backward(y)
    for name, p in model.parameters().items():
        p -= 0.5 * grads[name]
'''


def test_a_softmax_summed_down_the_columns_is_named_in_its_module(tmp_path):
    write(tmp_path, "model.py", MODEL.replace("e.sum(axis=1, keepdims=True)", "e.sum(axis=0, keepdims=True)"))
    report = check(write(tmp_path, "train.py", TRAIN))
    (error,) = errors(report)
    assert error["code"] == "BPD301"
    assert error["file"].endswith("model.py") and error["line"] == 7


def test_the_correct_softmax_is_clean(tmp_path):
    write(tmp_path, "model.py", MODEL)
    assert errors(check(write(tmp_path, "train.py", TRAIN))) == []


def test_a_one_sample_softmax_the_model_never_calls_is_no_suspect(tmp_path):
    """The book's `softmax` of one vector (`exp / np.sum(exp)`) beside the batched one the model calls:
    the program never runs it on a batch, so it is not probed as if it did."""
    unused = "def vector_softmax(x):\n    e = np.exp(x - np.max(x))\n    return e / np.sum(e)\n\n\n"
    write(tmp_path, "model.py", MODEL.replace("def softmax(z):", unused + "def softmax(z):"))
    report = check(write(tmp_path, "train.py", TRAIN))
    assert [f for f in report["findings"] if f["code"] == "BPD301"] == []
