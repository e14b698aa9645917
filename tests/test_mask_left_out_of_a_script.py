"""A module-level script whose hidden layer is `h = np.maximum(X @ W1 + b1, 0)` inline, and whose
`dh` is right as the gradient of `h` but is used for `dW1` and `db1` without the ReLU's mask. Both
wrong gradients are made right by the mask, and the report says so: the corrected gradients are read
before any is measured (the script's namespace is the one every replay run writes into)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.standard_normal((128, 8))
y = (X[:, :1] * X[:, 1:2])
W1 = (rng.standard_normal((8, 32)) * 0.3)
b1 = np.zeros(32)
W2 = (rng.standard_normal((32, 1)) * 0.3)
b2 = np.zeros(1)
lr = 0.05
for step in range(400):
    h = np.maximum(X @ W1 + b1, 0)
    out = h @ W2 + b2
    loss = np.mean((out - y) ** 2)
    g = 2 * (out - y) / len(X)
    dW2 = h.T @ g
    db2 = g.sum(0)
    dh = (g @ W2.T) * (h > 0)
    dW1 = X.T @ dh
    db1 = dh.sum(0)
    W1 -= lr * dW1; b1 -= lr * db1
    W2 -= lr * dW2; b2 -= lr * db2
    if step % 80 == 0:
        print(step, loss)
'''

RIGHT = "dh = (g @ W2.T) * (h > 0)"


def test_the_masked_gradient_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "relu.py", SCRIPT, RIGHT, RIGHT))) == []


def test_the_mask_left_out_of_two_gradients_is_named_at_the_adjoint(tmp_path):
    path = planted(tmp_path, "relu.py", SCRIPT, RIGHT, "dh = (g @ W2.T)")
    (found,) = errors(check(path))
    assert (found["param"], found["line"]) == ("dh", line_of(path, "dh = (g @ W2.T)"))
    assert "`dW1` and `db1` use it as the gradient with respect to the ReLU's input" in found["message"]
    assert found["message"].endswith("multiply `dh` by the ReLU's derivative, `(h > 0)`")
