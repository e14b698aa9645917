"""The backward of a max finds the winners again by comparing the array with its own max; over another
axis than the forward's max it picks other entries, and every gradient computed from the mask is
wrong while the lines using it are right. Named at the comparison, with the forward's axis.

Two styles: a maxout unit as cs231n-like `*_forward`/`*_backward` functions with a cache, and a 1-D max
pooling layer class over windows made by a reshape.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

MAXOUT = '''\
import numpy as np


def maxout_forward(x, W, b):
    z = np.einsum("nd,dhk->nhk", x, W) + b
    out = np.max(z, axis=2)
    return out, (x, W, z)


def maxout_backward(dout, cache):
    x, W, z = cache
    mask = (z == np.max(z, axis=2, keepdims=True)).astype(float)
    dz = mask * dout[:, :, None]
    return np.einsum("nhk,dhk->nd", dz, W), np.einsum("nd,nhk->dhk", x, dz), dz.sum(axis=0)


rng = np.random.default_rng(3)
X = rng.normal(size=(60, 4))
y = (X[:, 0] * X[:, 1] > 0).astype(int)
W, b = rng.normal(size=(4, 5, 3)) * 0.5, np.zeros((5, 3))
v = rng.normal(size=(5, 2)) * 0.5
for step in range(100):
    h, cache = maxout_forward(X, W, b)
    s = h @ v
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y]).mean()
    ds = p.copy()
    ds[np.arange(len(y)), y] -= 1
    ds /= len(y)
    dh = ds @ v.T
    _, dW, db = maxout_backward(dh, cache)
    v -= 0.5 * h.T @ ds
    W -= 0.5 * dW
    b -= 0.5 * db
'''

POOL = '''\
import numpy as np


class MaxPool1D:
    def forward(self, x):
        n, c, length = x.shape
        self.xr = x.reshape(n, c, length // 2, 2)
        return self.xr.max(axis=3)

    def backward(self, dout):
        mask = self.xr == self.xr.max(axis=3, keepdims=True)
        return (mask * dout[:, :, :, None]).reshape(dout.shape[0], dout.shape[1], -1)


class Dense:
    def __init__(self, n_in, n_out, seed):
        self.W = np.random.default_rng(seed).normal(size=(n_in, n_out)) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return dout @ self.W.T


rng = np.random.default_rng(5)
X = rng.normal(size=(40, 2, 8))
y = X[:, 0, :4].max(axis=1) - X[:, 1, 4:].max(axis=1)
pool, dense = MaxPool1D(), Dense(8, 1, 1)
for step in range(100):
    h = pool.forward(X).reshape(40, -1)
    out = dense.forward(h)[:, 0]
    loss = np.mean((out - y) ** 2)
    dout = (2 * (out - y) / len(y))[:, None]
    dh = dense.backward(dout).reshape(40, 2, 4)
    pool.backward(dh)
    dense.W -= 0.1 * dense.dW
    dense.b -= 0.1 * dense.db
'''


@pytest.mark.parametrize(
    "text, correct, wrong, axis",
    [
        (MAXOUT, "mask = (z == np.max(z, axis=2, keepdims=True))", "mask = (z == np.max(z, axis=1, keepdims=True))", "2"),
        (POOL, "mask = self.xr == self.xr.max(axis=3, keepdims=True)", "mask = self.xr == self.xr.max(axis=2, keepdims=True)", "3"),
    ],
    ids=["maxout-functions", "pool-class"],
)
def test_a_mask_over_another_axis_is_named(tmp_path, text, correct, wrong, axis):
    path = planted(tmp_path, "maxes.py", text, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["line"] == line_of(path, wrong) and f"axis {axis}" in root["message"]
    # the layer's own check names the comparison too (the replayed step may say it first, at the same line)
    (layer,) = [f for f in errors(report) if f["pattern"] == "mask-axis"]
    assert layer["line"] == line_of(path, wrong) and f"take it over axis {axis}" in layer["message"]


@pytest.mark.parametrize("text", [MAXOUT, POOL], ids=["maxout-functions", "pool-class"])
def test_masks_over_the_forwards_axis_are_clean(tmp_path, text):
    path = planted(tmp_path, "maxes.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path)) == []
