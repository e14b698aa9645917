"""A training step that clips its gradients' norm moves along a shorter gradient on purpose.

The book's language models call `clip_grads(model.grads, max_grad)` before the update: when the
total norm is above `max_grad` every gradient is scaled by `max_grad / norm`. The replay then
sees every update as the same fraction of the gradient; that is not a bug to report. A real
mistake under clipping (one gradient off by its own factor) still is.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = '''\
import numpy as np


def clip_grads(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate


rng = np.random.default_rng(0)
X = rng.standard_normal((64, 4)) * 3
y = X @ rng.standard_normal((4, 2)) * 5
W1 = rng.standard_normal((4, 16)) * 0.5
b1 = np.zeros(16)
W2 = rng.standard_normal((16, 2)) * 0.5
b2 = np.zeros(2)
lr = 0.01
for step in range(200):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    loss = 0.5 * np.sum((out - y) ** 2) / len(X)
    dout = (out - y) / len(X)
    dW2 = h.T @ dout
    db2 = dout.sum(axis=0)
    dh = dout @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    grads = [dW1, db1, dW2, db2]
    clip_grads(grads, 0.5)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''


def test_clipped_gradients_are_not_reported(tmp_path):
    report = check(write(tmp_path, "clipped.py", SCRIPT))
    assert errors(report) == []
    result = replayed(report)
    assert result["clipped"] == "clip_grads(grads, 0.5)"
    assert not any(p["wrong"] for p in result["parameters"])
    factors = [p["factor"] for p in result["parameters"]]
    assert len(factors) == 4 and all(0 < f < 0.1 for f in factors)  # the clip was active: every update shorter


def test_a_real_mistake_under_clipping_is_still_reported(tmp_path):
    path = planted(tmp_path, "clipped.py", SCRIPT, "db1 = dh.sum(axis=0)", "db1 = 3 * dh.sum(axis=0)")
    report = check(path)
    assert replayed(report)["clipped"] == "clip_grads(grads, 0.5)"
    (finding,) = errors(report)
    assert (finding["code"], finding["line"], finding["param"]) == ("BPD108", line_of(path, "db1 = 3 * dh.sum(axis=0)"), "b1")
    assert "3 × the gradient of your loss" in finding["message"]
