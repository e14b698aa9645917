"""A network whose scores are saturated from its first step (weights at scale 30): probabilities are
exactly 0 and 1, and the log's guard (`np.log(y + 1e-7)`) is most of the loss's slope at every pass. The
replay does not judge such a step with the guard left in (its numbers would be the guard's), so a
correct program gets no error (corpus: the book's `batch_norm_test.py` weight-scale sweep, in 7 repos).
"""

from __future__ import annotations

from tests.userfiles import check, errors, write

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(200, 20))
labels = rng.integers(0, 4, 200)
T = np.eye(4)[labels]
W1 = 30.0 * rng.normal(size=(20, 50))
W2 = 30.0 * rng.normal(size=(50, 4))
for it in range(100):
    h = np.maximum(X @ W1, 0)
    s = h @ W2
    s = s - s.max(axis=1, keepdims=True)
    y = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.sum(T * np.log(y + 1e-7)) / len(X)
    ds = (y - T) / len(X)
    dW2 = h.T @ ds
    dh = ds @ W2.T * (h > 0)
    dW1 = X.T @ dh
    W1 -= 0.01 * dW1
    W2 -= 0.01 * dW2
'''


def test_a_saturated_correct_step_gets_no_error(tmp_path):
    assert errors(check(write(tmp_path, "saturated.py", PROGRAM))) == []
