"""A dropout layer that draws its mask from a generator of the user's own (`rng = np.random.default_rng(3)`
at the top of the file, or `self.rng` in the layer) rather than NumPy's global RNG.

Each forward the checks compare must draw the same mask, as with `np.random.rand`: otherwise a correct
inverted dropout reads as a layer that mixes the samples of a batch (batch-coupling), and a backward
that draws a fresh mask instead of reusing forward's is not named as the wrong gradient it is.
"""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

BOOK = """
import numpy as np

gen = np.random.default_rng(7)


class Dropout:
    def __init__(self, keep=0.7):
        self.keep = keep
        self.training = True

    def forward(self, x):
        if not self.training:
            return x
        self.mask = (gen.random(x.shape) < self.keep) / self.keep
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class Affine:
    def __init__(self, n_in, n_out):
        self.W = gen.normal(0, np.sqrt(2 / n_in), size=(n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)


X = gen.normal(size=(200, 6))
y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
layers = [Affine(6, 32), Tanh(), Dropout(0.7), Affine(32, 2)]

for epoch in range(30):
    h = X
    for layer in layers:
        h = layer.forward(h)
    h = h - h.max(axis=1, keepdims=True)
    p = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y]).mean()
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    d /= len(y)
    for layer in reversed(layers):
        d = layer.backward(d)
    for layer in layers:
        if isinstance(layer, Affine):
            layer.W -= 0.5 * layer.dW
            layer.b -= 0.5 * layer.db
    print(epoch, loss)
"""
BOOK_RIGHT = "        return dout * self.mask"
BOOK_WRONG = "        return dout * (gen.random(dout.shape) < self.keep) / self.keep"

CS231N = """
import numpy as np

rs = np.random.RandomState(1)


def dropout_forward(x, p):
    mask = (rs.rand(*x.shape) < p) / p
    out = x * mask
    cache = mask
    return out, cache


def dropout_backward(dout, cache):
    mask = cache
    dx = dout * mask
    return dx


x = rs.randn(8, 5)
out, cache = dropout_forward(x, 0.6)
print(dropout_backward(np.ones_like(out), cache).shape)
"""
CS231N_RIGHT = "    dx = dout * mask"
CS231N_WRONG = "    dx = dout * (rs.rand(*dout.shape) < 0.6) / 0.6"

OWN = """
import numpy as np


class Dropout:
    def __init__(self, p=0.5, seed=0):
        self.p = p
        self.rng = np.random.default_rng(seed)

    def forward(self, x, train=True):
        if train:
            self.mask = self.rng.random(x.shape) > self.p
            return x * self.mask / (1 - self.p)
        return x

    def backward(self, dout):
        return dout * self.mask / (1 - self.p)


layer = Dropout(0.3)
x = np.random.randn(10, 4)
print(layer.backward(layer.forward(x)).shape)
"""
OWN_RIGHT = "        return dout * self.mask / (1 - self.p)"
OWN_WRONG = "        return dout * (self.rng.random(dout.shape) > self.p) / (1 - self.p)"

CENTER = """

class Center:
    def forward(self, x):
        return x - x.mean(axis=0)

    def backward(self, dout):
        return dout - dout.mean(axis=0)
"""


def _names(report: dict) -> set[str]:
    return {f["name"] for f in report["findings"]}


def _clean(report: dict) -> None:
    assert "batch-coupling" not in _names(report), report["findings"]
    assert errors(report) == [], errors(report)


def _wrong_at(report: dict, path: Path, line_text: str) -> None:
    assert "batch-coupling" not in _names(report), report["findings"]
    line = line_of(path, line_text)
    assert any(f["name"] == "gradient-mismatch" and f["line"] == line for f in errors(report)), report["findings"]


def test_book_dropout_drawing_from_the_files_generator_is_clean(tmp_path: Path) -> None:
    _clean(check(write(tmp_path, "book.py", BOOK), training=True))


def test_book_dropout_drawing_a_fresh_mask_in_backward_is_the_wrong_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "book_bug.py", BOOK, BOOK_RIGHT, BOOK_WRONG)
    _wrong_at(check(path, training=True), path, BOOK_WRONG.strip())


def test_cs231n_dropout_pair_drawing_from_a_randomstate_is_clean(tmp_path: Path) -> None:
    _clean(check(write(tmp_path, "layers.py", CS231N)))


def test_cs231n_dropout_backward_drawing_a_fresh_mask_is_the_wrong_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "layers_bug.py", CS231N, CS231N_RIGHT, CS231N_WRONG)
    _wrong_at(check(path), path, CS231N_WRONG.strip())


def test_dropout_holding_its_own_generator_is_clean(tmp_path: Path) -> None:
    _clean(check(write(tmp_path, "own.py", OWN)))


def test_dropout_drawing_a_fresh_mask_from_its_own_generator_is_the_wrong_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "own_bug.py", OWN, OWN_RIGHT, OWN_WRONG)
    _wrong_at(check(path), path, OWN_WRONG.strip())


def test_a_layer_centring_over_the_batch_beside_it_still_couples(tmp_path: Path) -> None:
    path = write(tmp_path, "center.py", BOOK + CENTER)
    report = check(path)
    coupled = [f for f in report["findings"] if f["name"] == "batch-coupling" and f["severity"] == "error"]
    assert [f["layer"] for f in coupled] == ["Center"], report["findings"]
