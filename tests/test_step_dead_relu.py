"""Dead ReLU units in a script's own training loop (issue 11: the training checks judge a script's
own training as they judge a class-based network's).

The replay runs the loop again from the program's state and keeps what it binds to a ReLU output
that feeds the next layer; units that output 0 for every sample are dead.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(200, 5)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)

W1 = np.random.randn(5, 32) * np.sqrt(2.0 / 5)
b1 = np.zeros((1, 32))
W2 = np.random.randn(32, 1) * np.sqrt(2.0 / 32)
b2 = np.zeros((1, 1))
lr = 0.1
for epoch in range(1000):
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    out = a1 @ W2 + b2
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / len(X)
    dW2 = a1.T @ dout
    db2 = dout.sum(axis=0, keepdims=True)
    da1 = dout @ W2.T
    dz1 = da1 * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

COLUMNS = '''\
import numpy as np

np.random.seed(1)
X = np.random.randn(4, 120)
Y = (X[:1] + X[1:2] > 0).astype(float)
W1 = np.random.randn(16, 4) * np.sqrt(2.0 / 4)
b1 = np.zeros((16, 1))
W2 = np.random.randn(1, 16) * 0.1
b2 = np.zeros((1, 1))
learning_rate = 0.05
for i in range(500):
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(Z1, 0)
    Z2 = np.dot(W2, A1) + b2
    A2 = 1 / (1 + np.exp(-Z2))
    cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    dZ2 = (A2 - Y) / X.shape[1]
    dW2 = np.dot(dZ2, A1.T)
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(W2.T, dZ2) * (Z1 > 0)
    dW1 = np.dot(dZ1, X.T)
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    W1 = W1 - learning_rate * dW1
    b1 = b1 - learning_rate * db1
    W2 = W2 - learning_rate * dW2
    b2 = b2 - learning_rate * db2
'''

SVM = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.standard_normal((100, 2))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
X[y == 1] += 3.0
X[y == 0] -= 3.0
W = np.array([[-5.0, 5.0], [-5.0, 5.0]]) + rng.standard_normal((2, 2)) * 0.01
reg = 1e-4
lr = 0.5
for it in range(300):
    scores = X @ W
    correct = scores[np.arange(len(y)), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(len(y)), y] = 0
    loss = margins.sum() / len(y) + reg * np.sum(W * W)
    mask = (margins > 0).astype(float)
    mask[np.arange(len(y)), y] = -mask.sum(axis=1)
    dW = X.T @ mask / len(y) + 2 * reg * W
    W -= lr * dW
'''


def _dead(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD612"]


def test_a_relu_layer_dead_from_the_start_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "dead.py", SCRIPT, "b1 = np.zeros((1, 32))", "b1 = np.full((1, 32), -20.0)")
    (finding,) = _dead(check(path, training=True))
    # the bias that keeps every unit below zero is the line to change (since session 30; the ReLU's line before)
    assert (finding["severity"], finding["line"], finding["param"]) == ("error", line_of(path, "b1 = np.full((1, 32), -20.0)"), "a1")
    assert finding["message"].startswith("32 of 32 units of `a1`")
    assert "from your program's first step on: `b1` starts at -20" in finding["message"]


def test_the_correct_script_keeps_its_units_alive(tmp_path):
    report = check(write(tmp_path, "alive.py", SCRIPT), training=True)
    assert _dead(report) == []
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_units_are_counted_along_the_batch_axis_of_a_column_layout(tmp_path):
    """One sample per column: a unit is a row of `A1`, dead when that whole row is 0."""
    assert _dead(check(write(tmp_path / "a", "columns.py", COLUMNS), training=True)) == []
    path = planted(tmp_path / "b", "columns.py", COLUMNS, "b1 = np.zeros((16, 1))", "b1 = np.full((16, 1), -30.0)")
    (finding,) = _dead(check(path, training=True))
    assert (finding["line"], finding["param"]) == (line_of(path, "b1 = np.full((16, 1), -30.0)"), "A1")
    assert finding["message"].startswith("16 of 16 units of `A1`")


def test_hinge_margins_that_reach_zero_are_not_dead_units(tmp_path):
    """A linear SVM that separates its data has all-zero margins: a fit, not a dead layer."""
    report = check(write(tmp_path, "svm.py", SVM), training=True)
    assert _dead(report) == []


def test_a_single_sample_as_a_column_vector_is_never_counted_as_dead_units():
    """Nielsen-style steps feed one sample at a time, `a1` of shape (30, 1): a unit off for that one
    sample proves nothing, whichever axis the sizes suggest."""
    import numpy as np

    from backprop_doctor.replay.curve import dead_units

    off = np.zeros((30, 1))
    assert dead_units("a1", 3, off, off, {30, 784, 1}) is None
    assert dead_units("a1", 3, off.T, off.T, {30, 784, 1}) is None
    batch = np.zeros((16, 30))
    found = dead_units("a1", 3, batch, batch, {30, 784})
    assert (found.units, found.dead_first, found.dead_last) == (30, 30, 30)
