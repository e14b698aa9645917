"""A loss that is infinite from the first step because the output sigmoid rounds to exactly 0 or
1: weights drawn far too large (`* 10`) push its input past ±37 for some samples, and `log` of
the rounded output is −inf. The finding names the saturation and its usual causes beside the
line of the `log` (part B of the held-out probes: an initialisation bug). The programs here are
written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

COLUMNS = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(2, 300)
Y = (X[0:1] * X[1:2] > 0).astype(float)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cross_entropy(A, Y):
    m = Y.shape[1]
    return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m


W1 = np.random.randn(8, 2) * np.sqrt(1 / 2)
b1 = np.zeros((8, 1))
W2 = np.random.randn(1, 8) * np.sqrt(1 / 8)
b2 = np.zeros((1, 1))
for i in range(2000):
    A1 = np.tanh(W1 @ X + b1)
    A2 = sigmoid(W2 @ A1 + b2)
    cost = cross_entropy(A2, Y)
    dZ2 = (A2 - Y) / X.shape[1]
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = W2.T @ dZ2 * (1 - A1 ** 2)
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    W1 -= 0.5 * dW1
    b1 -= 0.5 * db1
    W2 -= 0.5 * dW2
    b2 -= 0.5 * db2
'''


def test_a_first_loss_made_infinite_by_a_saturated_output_names_the_saturation(tmp_path):
    bug = planted(tmp_path, "init.py", COLUMNS, "W2 = np.random.randn(1, 8) * np.sqrt(1 / 8)", "W2 = np.random.randn(1, 8) * 100")
    (finding,) = errors(check(bug, training=True))
    assert finding["code"] == "BPD610" and finding["line"] == line_of(bug, "return -np.sum(Y * np.log(A)")
    # the log takes `A`, the argument of `cross_entropy`; the pass holds the output as `A2`
    assert "entries of `A2` are exactly 0 or 1" in finding["message"] and "weights initialised too large" in finding["message"]


def test_the_same_program_with_weights_at_their_scale_is_clean(tmp_path):
    assert not errors(check(write(tmp_path, "init.py", COLUMNS), training=True))
