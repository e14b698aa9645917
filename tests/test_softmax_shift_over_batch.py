"""A softmax whose samples each sum to 1 can still be wrong: shifted by each column's maximum
(`z - z.max(axis=0)` with the samples in rows) it takes values from the other samples, so a
sample's probabilities are not the softmax of its own scores and change with the rest of the
batch. Its row sums say nothing; calling it again with the other samples changed does. A global
maximum (`np.max(z)`) or a per-row one is a constant of each row and is left alone.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted

SHIFT = "    s = s - s.max(axis=1, keepdims=True)  # 数値安定化\n"

ROWS_SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(60, 5))
labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
T = np.eye(3)[labels]


def stable_softmax(s):
    s = s - s.max(axis=1, keepdims=True)  # 数値安定化
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


A = rng.normal(scale=0.1, size=(5, 3))
c = np.zeros(3)
for epoch in range(200):
    P = stable_softmax(X @ A + c)
    loss = -np.mean(np.sum(T * np.log(P + 1e-12), axis=1))
    g = (P - T) / len(X)
    A -= 0.5 * X.T @ g
    c -= 0.5 * g.sum(axis=0)
    if epoch % 50 == 0:
        print(epoch, loss)
'''

COLUMNS_SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(5, 60))          # one sample per column
labels = (X[0] - X[3] > 0).astype(int)
Y = np.eye(2)[labels].T


def softmax(Z):
    Z = Z - np.max(Z, axis=0, keepdims=True)
    E = np.exp(Z)
    return E / np.sum(E, axis=0, keepdims=True)


W = rng.normal(scale=0.1, size=(2, 5))
b = np.zeros((2, 1))
for i in range(200):
    A = softmax(W @ X + b)
    cost = -np.sum(Y * np.log(A)) / X.shape[1]
    dZ = (A - Y) / X.shape[1]
    W -= 0.3 * dZ @ X.T
    b -= 0.3 * dZ.sum(axis=1, keepdims=True)
    if i % 50 == 0:
        print(i, cost)
'''


def _softmax_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD301"]


def _evidence(finding: dict) -> dict[str, str]:
    return {e["label"]: e["text"] for e in finding["evidence"]}


def test_a_shift_by_each_columns_maximum_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "shifted.py", ROWS_SCRIPT, SHIFT, "    s = s - s.max(axis=0)  # 数値安定化\n")
    (finding,) = _softmax_findings(check(path))
    assert finding["severity"] == "error"
    assert finding["line"] == line_of(path, "s.max(axis=0)")
    assert "other samples" in finding["message"]
    assert "axis=1, keepdims=True" in finding["fix"]
    assert "moved by" in _evidence(finding)["batch dependence"]


@pytest.mark.parametrize(
    "shift",
    [SHIFT, "    s = s - np.max(s)  # 数値安定化\n", "    s = s - 0.0  # 数値安定化\n"],
    ids=["per-row", "global", "none"],
)
def test_a_shift_that_is_a_constant_of_each_row_is_not_reported(tmp_path, shift):
    path = planted(tmp_path, "fine.py", ROWS_SCRIPT, SHIFT, shift)
    assert _softmax_findings(check(path)) == []


def test_with_samples_in_columns_a_shift_by_each_rows_maximum_is_named(tmp_path):
    correct = "    Z = Z - np.max(Z, axis=0, keepdims=True)\n"
    assert _softmax_findings(check(planted(tmp_path, "ok.py", COLUMNS_SCRIPT, correct, correct))) == []
    path = planted(tmp_path, "bad.py", COLUMNS_SCRIPT, correct, "    Z = Z - np.max(Z, axis=1, keepdims=True)\n")
    (finding,) = _softmax_findings(check(path))
    assert finding["line"] == line_of(path, "np.max(Z, axis=1")
    assert "column" in _evidence(finding)["batch dependence"]
