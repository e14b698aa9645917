"""An embedding layer whose backward writes `dW[self.idx] = dout` keeps one gradient of a repeated
id: the finding's fix is `np.add.at(dW, self.idx, dout)`, which adds them, in the user's names."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = """\
import numpy as np


class Embedding:
    def __init__(self, W):
        self.W = W

    def forward(self, ids):
        self.ids = ids
        return self.W[ids]

    def backward(self, g):
        self.dW = np.zeros_like(self.W)
        np.add.at(self.dW, self.ids, g)


np.random.seed(0)
V, D = 6, 3
emb = Embedding(np.random.randn(V, D) * 0.1)
Wo = np.random.randn(D, V) * 0.1
ids = np.array([i % V for i in range(40)])
targets = (ids + 1) % V
for it in range(30):
    h = emb.forward(ids)
    s = h @ Wo
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    ds = p.copy()
    ds[np.arange(len(ids)), targets] -= 1
    ds /= len(ids)
    dWo = h.T @ ds
    emb.backward(ds @ Wo.T)
    Wo -= 0.5 * dWo
    emb.W -= 0.5 * emb.dW
"""


def test_the_right_embedding_passes(tmp_path):
    assert errors(check(planted(tmp_path, "embedding.py", PROGRAM, "", ""))) == []


def test_a_fancy_index_write_gets_np_add_at(tmp_path):
    path = planted(tmp_path, "embedding.py", PROGRAM, "np.add.at(self.dW, self.ids, g)", "self.dW[self.ids] = g")
    (finding,) = [f for f in errors(check(path)) if f["layer"] == "Embedding"]
    assert finding["line"] == line_of(path, "self.dW[self.ids] = g")
    assert finding["fix"] == "np.add.at(self.dW, self.ids, g)"
