"""Targets of shape (N,) against an output of shape (N, 1): `out - y` is an (N, N) array, every sample
against every other, and the program stops a few lines later on a shape error that names neither.
The finding is at the first line of the pass that combines the two, with both shapes and the fix;
the same program with its targets made a column is clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

np.random.seed(4)
features = np.random.randn(80, 3)
target = (features[:, 0] * features[:, 2] > 0).astype(float).reshape(-1, 1)

W1 = np.random.randn(3, 6) * 0.5
c1 = np.zeros((1, 6))
W2 = np.random.randn(6, 1) * 0.5
c2 = np.zeros((1, 1))
rate = 0.5
for epoch in range(300):
    hidden = np.tanh(features.dot(W1) + c1)
    pred = 1 / (1 + np.exp(-(hidden.dot(W2) + c2)))
    cost = np.mean((pred - target) ** 2)
    g_pred = 2 * (pred - target) / len(features) * pred * (1 - pred)
    g_W2 = hidden.T.dot(g_pred)
    g_c2 = g_pred.sum(axis=0, keepdims=True)
    g_hidden = g_pred.dot(W2.T) * (1 - hidden ** 2)
    g_W1 = features.T.dot(g_hidden)
    g_c1 = g_hidden.sum(axis=0, keepdims=True)
    W1 -= rate * g_W1
    c1 -= rate * g_c1
    W2 -= rate * g_W2
    c2 -= rate * g_c2
'''

COLUMN = ".astype(float).reshape(-1, 1)"
VECTOR = ".astype(float)"


def test_targets_made_a_column_are_clean(tmp_path):
    assert errors(check(planted(tmp_path, "fit.py", SCRIPT, COLUMN, COLUMN))) == []


def test_a_vector_of_targets_against_a_column_is_named_where_they_meet(tmp_path):
    path = planted(tmp_path, "fit.py", SCRIPT, COLUMN, VECTOR)
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "cost = np.mean((pred - target) ** 2)")
    assert "`pred` of shape (80, 1) with `target` of shape (80,)" in finding["message"]
    assert "(80, 80)" in finding["message"] and "target.reshape(-1, 1)" in finding["message"]
