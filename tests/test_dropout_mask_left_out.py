"""Dropout written by hand: the forward multiplies the hidden layer by a random mask, and the backward
must multiply the gradient coming back by the same mask. One that never reads the mask again is named
with the mask, the line it is drawn at and the product it enters."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(64, 10)
y = np.random.randint(0, 3, 64)
W1 = 0.1 * np.random.randn(10, 32)
b1 = np.zeros(32)
W2 = 0.1 * np.random.randn(32, 3)
b2 = np.zeros(3)
p_keep = 0.8
lr = 0.5
for it in range(100):
    h = np.maximum(0, X @ W1 + b1)
    mask = (np.random.rand(*h.shape) < p_keep) / p_keep
    hd = h * mask
    s = hd @ W2 + b2
    s -= s.max(1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    loss = -np.log(p[np.arange(64), y]).mean()
    ds = p.copy()
    ds[np.arange(64), y] -= 1
    ds /= 64
    dW2 = hd.T @ ds
    db2 = ds.sum(0)
    dh = ds @ W2.T * mask
    dh[h <= 0] = 0
    dW1 = X.T @ dh
    db1 = dh.sum(0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''


def test_dropout_with_its_mask_in_both_passes_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "dropout.py", SCRIPT))) == []


def test_a_mask_the_backward_leaves_out_is_named(tmp_path):
    path = planted(tmp_path, "dropout.py", SCRIPT, "dh = ds @ W2.T * mask", "dh = ds @ W2.T")
    (finding,) = errors(check(path))
    assert (finding["param"], finding["pattern"]) == ("dh", "mask-left-out")
    assert finding["line"] in (line_of(path, "dh = ds @ W2.T"), line_of(path, "dh[h <= 0] = 0"))
    assert f"the mask `mask` drawn at line {line_of(path, 'mask = (np.random.rand')} (`hd`, line {line_of(path, 'hd = h * mask')})" in finding["message"]
    assert finding["message"].endswith("multiply the gradient coming back from `hd` by `mask` before `dh` goes on")
