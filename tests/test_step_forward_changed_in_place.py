"""A forward value normalised in place right after it is computed (`w = np.exp(s)` then
`w /= w.sum(axis=1, keepdims=True)`, `h = x @ W` then `h -= h.mean(...)`), inside a function the step
calls: every later statement reads the array as the in-place change leaves it, so that is the value its
gradient (`dw`, `dh`) is measured against. Measured before the change, a right `dw` looked wrong and was
named instead of the wrong gradient after it."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

POOLING = """
import numpy as np

rng = np.random.default_rng(12)
N, T, D = 40, 6, 4
seqs = rng.normal(size=(N, T, D))
target = seqs[:, 2, :1] - seqs[:, 4, 1:2]
params = {"u": rng.normal(scale=0.5, size=D), "V": rng.normal(scale=0.5, size=(D, 1))}


def pooled_step(params, seqs, target):
    s = seqs @ params["u"]
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    pooled = np.einsum("nt,ntd->nd", w, seqs)
    pred = pooled @ params["V"]
    loss = np.mean((pred - target) ** 2)
    dpred = 2 * (pred - target) / len(seqs)
    grads = {"V": pooled.T @ dpred}
    dpooled = dpred @ params["V"].T
    dw = np.einsum("nd,ntd->nt", dpooled, seqs)
    ds = w * (dw - (dw * w).sum(axis=1, keepdims=True))
    grads["u"] = np.einsum("nt,ntd->d", ds, seqs)
    return loss, grads


for it in range(200):
    loss, grads = pooled_step(params, seqs, target)
    for key in params:
        params[key] -= 0.2 * grads[key]
"""

SOFTMAX_BACK = "    ds = w * (dw - (dw * w).sum(axis=1, keepdims=True))"
SOFTMAX_BACK_WRONG = "    ds = w * (dw - (dw * w).sum(axis=0, keepdims=True))"

CENTRED = """
import numpy as np


def forward(W1, W2, x):
    h = x @ W1
    h -= h.mean(axis=1, keepdims=True)
    a = np.tanh(h)
    return a @ W2, (x, h, a)


def backward(W1, W2, cache, dout):
    x, h, a = cache
    gW2 = a.T @ dout
    da = dout @ W2.T
    dh = da * (1 - a ** 2)
    dpre = dh - dh.mean(axis=1, keepdims=True)
    return x.T @ dpre, gW2


rng = np.random.default_rng(6)
x = rng.normal(size=(70, 5))
y = np.sin(x[:, :2])
W1 = rng.normal(scale=0.4, size=(5, 8))
W2 = rng.normal(scale=0.4, size=(8, 2))
for epoch in range(300):
    out, cache = forward(W1, W2, x)
    loss = 0.5 * np.sum((out - y) ** 2) / len(x)
    gW1, gW2 = backward(W1, W2, cache, (out - y) / len(x))
    W1 -= 0.1 * gW1
    W2 -= 0.1 * gW2
"""

CENTRING_BACK = "    dpre = dh - dh.mean(axis=1, keepdims=True)"
CENTRING_BACK_WRONG = "    dpre = dh - dh.mean(axis=0, keepdims=True)"

# the gradient changed in place as its forward value is: `dz` is the gradient of `z` before the centring
MIRRORED = CENTRED.replace("    dh = da * (1 - a ** 2)\n    dpre = dh - dh.mean(axis=1, keepdims=True)\n    return x.T @ dpre, gW2",
                           "    dh = da * (1 - a ** 2)\n    dh -= dh.mean(axis=1, keepdims=True)\n    return x.T @ dh, gW2")


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "pool.py", POOLING, SOFTMAX_BACK, SOFTMAX_BACK))) == []
    assert errors(check(planted(tmp_path, "centred.py", CENTRED, CENTRING_BACK, CENTRING_BACK))) == []
    assert MIRRORED != CENTRED
    assert errors(check(planted(tmp_path, "mirrored.py", MIRRORED, "dh -= dh.mean(axis=1", "dh -= dh.mean(axis=1"))) == []


def test_a_softmax_normalised_in_place_is_measured_as_normalised(tmp_path: Path) -> None:
    path = planted(tmp_path, "pool.py", POOLING, SOFTMAX_BACK, SOFTMAX_BACK_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and (found[0]["param"], found[0]["line"]) == ("ds", line_of(path, SOFTMAX_BACK_WRONG.strip())), found


def test_a_centring_in_place_is_measured_as_centred(tmp_path: Path) -> None:
    path = planted(tmp_path, "centred.py", CENTRED, CENTRING_BACK, CENTRING_BACK_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and found[0]["line"] != line_of(path, "dh = da * (1 - a ** 2)"), found  # `dh` is right: the centred `h`'s gradient
