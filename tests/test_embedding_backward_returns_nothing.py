"""An embedding layer's backward returns nothing: its input is integer token ids, which it looks rows of its
weight up with (`self.E[ids]`) or one-hot encodes (after `ids.astype(np.int32)`), in forward or in a method
it calls. There is no gradient with
respect to integers, so "return dx" is not asked for; its weight's gradient is still checked, and a float
layer whose backward returns None is still reported.
The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# ids made integers and one-hot encoded in forward, the table applied by a product, `return None`
INLINE = '''\
import numpy as np


class TokenTable:
    def __init__(self, input_dim, output_dim):
        rng = np.random.RandomState(2)
        self.V = input_dim
        self.E = rng.randn(input_dim, output_dim) * 0.1

    def forward(self, ids):
        ids = ids.astype(np.int32)
        flat = ids.reshape(-1)
        hot = np.zeros((flat.size, self.V))
        hot[np.arange(flat.size), flat] = 1.0
        self.hot = hot.reshape(*ids.shape, self.V)
        return self.hot @ self.E

    def backward(self, dout):
        self.dE = self.hot.reshape(-1, self.V).T @ dout.reshape(-1, dout.shape[-1])
        return None


class Scale:
    def __init__(self, input_dim):
        self.g = np.ones(input_dim)

    def forward(self, x):
        self.x = x
        return x * self.g

    def backward(self, dout):
        self.dg = np.sum(dout * self.x, axis=0)
        dx = dout * self.g
        return dx
'''

# the other style: one-hot encoding in a helper method, the weight applied by a product, no return at all
ONE_HOT = '''\
import numpy as np


class CharEmbedding:
    def __init__(self, input_dim, output_dim):
        self.vocab_size = input_dim
        self.W = np.random.RandomState(5).normal(0, 0.2, (input_dim, output_dim))

    def encode(self, tokens):
        tokens = tokens.astype(np.int64)
        hot = np.zeros((tokens.size, self.vocab_size))
        hot[np.arange(tokens.size), tokens.reshape(-1)] = 1
        return hot.reshape(*tokens.shape, self.vocab_size)

    def forward(self, X):
        self.inputs = X
        self.hot = self.encode(self.inputs)
        return self.hot @ self.W

    def backward(self, grad):
        self.grad_W = self.hot.reshape(-1, self.vocab_size).T @ grad.reshape(-1, grad.shape[-1])
'''


def _bad_returns(report: dict, layer: str) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "bad-return" and f["layer"] == layer]


def test_an_embedding_one_hot_encoding_its_ids_whose_backward_returns_none_is_not_asked_for_dx(tmp_path):
    report = check(write(tmp_path, "table.py", INLINE))
    assert _bad_returns(report, "TokenTable") == []
    assert not errors(report)


def test_a_one_hot_embedding_whose_backward_returns_nothing_is_not_asked_for_dx(tmp_path):
    report = check(write(tmp_path, "onehot.py", ONE_HOT))
    assert _bad_returns(report, "CharEmbedding") == []
    assert not errors(report)
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "CharEmbedding"}.get("W") == "ok"


def test_a_float_layer_whose_backward_returns_none_beside_it_is_still_reported(tmp_path):
    path = planted(tmp_path, "table.py", INLINE, "        dx = dout * self.g\n        return dx", "        dx = dout * self.g\n        return None")
    (finding,) = _bad_returns(check(path), "Scale")
    assert finding["line"] == line_of(path, "dx = dout * self.g") + 1  # its `return None`


def test_a_wrong_weight_gradient_of_the_embedding_is_still_an_error(tmp_path):
    path = planted(tmp_path, "onehot.py", ONE_HOT, "self.grad_W = self.hot", "self.grad_W = 2 * self.hot")
    (found,) = [f for f in errors(check(path)) if f["layer"] == "CharEmbedding" and f["name"] == "gradient-mismatch"]
    assert found["param"] == "W"
