"""A layer norm whose backward sums `dxhat` over the batch axis mixes the samples of dx. The finding
names that sum, and its fix leaves alone the sums over the batch that make dgamma and dbeta, which
are right (they used to be named first and rewritten to axis=1)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

LAYER_NORM = """\
import numpy as np


class LayerNorm:
    def __init__(self, dim, eps=1e-5):
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)
        self.eps = eps

    def forward(self, x):
        self.var = x.var(axis=-1, keepdims=True)
        self.xhat = (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(self.var + self.eps)
        return self.gamma * self.xhat + self.beta

    def backward(self, dy):
        D = dy.shape[-1]
        self.dgamma = np.sum(dy * self.xhat, axis=0)
        self.dbeta = np.sum(dy, axis=0)
        dxhat = dy * self.gamma
        inv = 1.0 / np.sqrt(self.var + self.eps)
        return inv / D * (D * dxhat - dxhat.sum(axis=-1, keepdims=True) - self.xhat * (dxhat * self.xhat).sum(axis=-1, keepdims=True))


np.random.seed(0)
x = np.random.randn(8, 5) * 3
target = np.random.randn(8, 5)
norm = LayerNorm(5)
for it in range(20):
    y = norm.forward(x)
    norm.backward((y - target) / len(x))
    norm.gamma -= 0.1 * norm.dgamma
    norm.beta -= 0.1 * norm.dbeta
"""


def test_the_right_layer_norm_passes(tmp_path):
    assert errors(check(planted(tmp_path, "layernorm.py", LAYER_NORM, "", ""))) == []


def test_the_sum_over_the_batch_that_mixes_dx_is_named_and_fixed_alone(tmp_path):
    path = planted(tmp_path, "layernorm.py", LAYER_NORM, "D * dxhat - dxhat.sum(axis=-1", "D * dxhat - dxhat.sum(axis=0")
    (finding,) = [f for f in errors(check(path)) if f["code"] == "BPD302"]
    assert finding["line"] == line_of(path, "dxhat.sum(axis=0")
    assert "dgamma" not in finding["fix"] and "dbeta" not in finding["fix"]
