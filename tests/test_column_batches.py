"""Programs that keep one sample per column, the course layout `X (features, samples)`.

The observed run checks a recorded batch on its first 16 samples. It used to cut the first axis
of every array, so `X (40, 200)` became `X (16, 200)`: `np.dot(W, A)` then failed on a correct
program and the report blamed the user's forward (a false `layer-raised` error). Samples are now
cut along the axis the targets or the weights say is the batch.
"""

from __future__ import annotations

import numpy as np
import pytest

from backprop_doctor.observe.check import _batch_axis, _rows
from tests.userfiles import check, errors, line_of, planted, write

COLUMN_PROGRAM = '''\
import numpy as np


def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    cache = (A, W, b)
    return Z, cache


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


np.random.seed(0)
X = np.random.randn(40, 200)
Y = (X[:3].sum(axis=0, keepdims=True) > 0).astype(float)
W1, b1 = np.random.randn(8, 40) * 0.1, np.zeros((8, 1))
W2, b2 = np.random.randn(1, 8) * 0.1, np.zeros((1, 1))
for i in range(300):
    Z1, c1 = linear_forward(X, W1, b1)
    A1 = np.tanh(Z1)
    Z2, c2 = linear_forward(A1, W2, b2)
    A2 = sigmoid(Z2)
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    dZ2 = A2 - Y
    dA1, dW2, db2 = linear_backward(dZ2, c2)
    dZ1 = dA1 * (1 - A1 ** 2)
    _, dW1, db1 = linear_backward(dZ1, c1)
    W1 -= 0.5 * dW1
    b1 -= 0.5 * db1
    W2 -= 0.5 * dW2
    b2 -= 0.5 * db2
    if i % 100 == 0:
        print(i, cost)
'''


def test_a_correct_program_in_the_column_layout_is_checked_on_its_first_columns(tmp_path):
    report = check(write(tmp_path, "columns.py", COLUMN_PROGRAM))
    assert errors(report) == []
    (pair,) = [b for b in report["built"] if b["what"] == "linear_forward/linear_backward"]
    assert pair["shapes"].startswith("x (40, 16)")
    assert {m["param"] for m in report["measurements"] if m["layer"] == "linear"} == {"x", "W", "b"}


def test_a_bias_gradient_that_forgets_the_mean_is_found_at_its_line(tmp_path):
    path = planted(
        tmp_path, "columns.py", COLUMN_PROGRAM,
        "db = np.sum(dZ, axis=1, keepdims=True) / m", "db = np.sum(dZ, axis=1, keepdims=True)",
    )
    report = check(path)
    assert {(f["code"], f["param"], f["line"]) for f in errors(report)} == {("BPD101", "b", line_of(path, "db = np.sum"))}


@pytest.mark.parametrize(
    ("x", "t", "weights", "axis"),
    [
        ((40, 200), (1, 200), (), -1),  # targets (1, m)
        ((40, 200), (200,), (), -1),  # labels (m,)
        ((200, 40), (200, 3), (), 0),  # rows
        ((200, 40), (200,), (), 0),
        ((40, 200), None, ((8, 40),), -1),  # W (n, d) @ x (d, m)
        ((200, 40), None, ((40, 8),), 0),  # x (N, D) @ W (D, H)
        ((200, 40), None, ((8, 40), (40, 8)), 0),  # both ways: rows, as before
        ((40, 40), (1, 40), (), 0),  # square: undecidable, rows
        ((5, 40, 3), None, ((8, 5),), 0),  # not a matrix
    ],
)
def test_the_batch_axis_follows_the_targets_or_the_weights(x, t, weights, axis):
    arrays = [np.zeros(s) for s in weights]
    assert _batch_axis(np.zeros(x), None if t is None else np.zeros(t), tuple(arrays)) == axis


def test_columns_are_cut_to_the_first_samples_and_nothing_else_moves():
    x = np.arange(40 * 200.0).reshape(40, 200)
    cut = _rows(x, -1)
    assert cut.shape == (40, 16)
    np.testing.assert_array_equal(cut, x[:, :16])
    np.testing.assert_array_equal(_rows(x.T, 0), x.T[:16])


def test_labels_and_higher_arrays_beside_columns_are_cut_on_their_own_batch_axis():
    labels = np.arange(200)
    np.testing.assert_array_equal(_rows(labels, -1), labels[:16])  # (m,): the one axis is the samples
    images = np.zeros((40, 3, 20))
    assert _rows(images, -1).shape == (16, 3, 20)  # never a column layout: samples first
