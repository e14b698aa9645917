"""A loss with an L2 penalty, `0.5 * reg * (ΣW1² + ΣW2²)`, whose gradients leave the penalty out:
each weight's update is then the data term's gradient alone. The report names the penalty, λ as the
loss writes it, and the term to add, at the line each gradient is computed."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(100, 5)
y = (X[:, 0] + X[:, 1] > 0).astype(int)
W1 = 0.1 * np.random.randn(5, 16)
b1 = np.zeros(16)
W2 = 0.1 * np.random.randn(16, 2)
b2 = np.zeros(2)
reg = 0.01
lr = 0.5
for i in range(300):
    h = np.maximum(0, X @ W1 + b1)
    s = h @ W2 + b2
    e = np.exp(s - s.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    loss = -np.log(p[range(100), y]).mean() + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    ds = p.copy()
    ds[range(100), y] -= 1
    ds /= 100
    dW2 = h.T @ ds + reg * W2
    db2 = ds.sum(0)
    dh = ds @ W2.T
    dh[h <= 0] = 0
    dW1 = X.T @ dh + reg * W1
    db1 = dh.sum(0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''


def test_gradients_with_the_penalty_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "reg.py", SCRIPT))) == []


@pytest.mark.parametrize("weight", ["W1", "W2"])
def test_a_gradient_without_the_loss_penalty_names_the_term_to_add(tmp_path, weight):
    with_penalty = f" + reg * {weight}\n"
    computed = "dW1 = X.T @ dh" if weight == "W1" else "dW2 = h.T @ ds"
    path = planted(tmp_path, "reg.py", SCRIPT, f"{computed}{with_penalty}", f"{computed}\n")
    (finding,) = errors(check(path))
    assert (finding["param"], finding["pattern"], finding["line"]) == (weight, "penalty-left-out", line_of(path, computed))
    assert f"holds an L2 penalty on `{weight}` whose gradient, λ·p with λ = 0.01" in finding["message"]
    assert finding["message"].endswith(f"add `reg * {weight}` to `d{weight}`")
