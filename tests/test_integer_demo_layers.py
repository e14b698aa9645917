"""A layer whose demo runs it on integer arrays, the book's exercise style
(`W = np.arange(1, 7).reshape(2, -1)`, `x = np.array([[1, 0], [0, 1], [1, 1]])`): the observed
layer is checked on those numbers as float64, since it computes the same with them, instead of
"built, but no gradient could be compared" with advice to return floats from forward. Integer
indices that a layer looks rows up with stay integers."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

AFFINE = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


W = np.arange(1, 7).reshape(2, -1)
b = np.arange(7, 10)
affine = Affine(W, b)
y = affine.forward(np.array([[1, 0], [0, 1], [1, 1]]))
print(affine.backward(np.array([[2, 1, -1], [1, 0, 0], [0, 0, 1]])))
"""

EMBEDDING = """\
import numpy as np


class Embedding:
    def __init__(self, W):
        self.W = W

    def forward(self, idx):
        self.idx = idx
        return self.W[idx]

    def backward(self, dout):
        self.dW = np.zeros_like(self.W)
        np.add.at(self.dW, self.idx, dout)
        return None


emb = Embedding(np.random.randn(7, 3))
print(emb.forward(np.array([0, 2, 2, 5])))
"""


def test_a_layer_demonstrated_on_integers_is_checked(tmp_path):
    path = write(tmp_path, "affine.py", AFFINE)
    report = check(path)
    assert errors(report) == []
    (layer,) = report["built"]
    assert (layer["what"], layer["shapes"]) == (f"Affine (line {line_of(path, 'affine = Affine(W, b)')})", f"forward (line {line_of(path, 'y = affine.forward')}): x (3, 2)")


def test_a_wrong_gradient_of_a_layer_demonstrated_on_integers_is_found(tmp_path):
    path = planted(tmp_path, "affine.py", AFFINE, "return dout @ self.W.T", "return 2 * dout @ self.W.T")
    wrong = errors(check(path))
    assert [(f["name"], f["line"]) for f in wrong] == [("gradient-mismatch", line_of(path, "return 2 * dout"))]


def test_integer_indices_of_an_embedding_stay_integers(tmp_path):
    path = write(tmp_path, "embedding.py", EMBEDDING)
    report = check(path)
    assert errors(report) == []
    assert [b["what"] for b in report["built"]] == [f"Embedding (line {line_of(path, 'emb = Embedding')})"]
