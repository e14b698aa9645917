"""A program whose weight matrices all start with identical units is told why it cannot learn.

`W1 = np.zeros(...)` and `W2 = np.zeros(...)`: every hidden unit computes the same value and gets
the same gradient, so the units stay copies of one another. Every gradient is right; the
replay reads the weights where the training loop runs and names the initialisation.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

ZERO_INIT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(200, 2)
y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)

W1 = np.zeros((2, 8))
b1 = np.zeros((1, 8))
W2 = np.zeros((8, 1))
b2 = np.zeros((1, 1))
lr = 0.5
for epoch in range(2000):
    h = np.tanh(X @ W1 + b1)
    out = 1 / (1 + np.exp(-(h @ W2 + b2)))
    loss = np.mean((out - y) ** 2)
    d_out = 2 * (out - y) / len(X) * out * (1 - out)
    dW2 = h.T @ d_out
    db2 = d_out.sum(axis=0, keepdims=True)
    d_h = d_out @ W2.T * (1 - h ** 2)
    dW1 = X.T @ d_h
    db1 = d_h.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
    if epoch % 500 == 0:
        print(epoch, loss)
'''


def _symmetric(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD611"]


def test_weights_that_all_start_at_zero_are_the_root_cause_at_the_first_of_them(tmp_path):
    path = write(tmp_path, "xor_zero.py", ZERO_INIT)
    report = check(path)
    (finding,) = _symmetric(report)
    assert finding["line"] == line_of(path, "W1 = np.zeros")
    assert "`W1`, `W2`" in finding["message"] and "b1" not in finding["message"]
    assert report["findings"][report["root_cause"]] == finding


def test_random_weights_break_the_symmetry_and_are_clean(tmp_path):
    text = ZERO_INIT.replace("W2 = np.zeros((8, 1))", "W2 = np.random.randn(8, 1) * 0.5")
    path = planted(tmp_path, "xor_random.py", text, "W1 = np.zeros((2, 8))", "W1 = np.random.randn(2, 8) * 0.5")
    report = check(path)
    assert errors(report) == [] and _symmetric(report) == []


def test_a_zero_output_layer_behind_random_hidden_weights_is_fine(tmp_path):
    path = planted(tmp_path, "xor_out.py", ZERO_INIT, "W1 = np.zeros((2, 8))", "W1 = np.random.randn(2, 8) * 0.5")
    report = check(path)
    assert _symmetric(report) == [] and errors(report) == []


def test_one_sample_per_column_with_zero_weights_is_found_too(tmp_path):
    text = (
        ZERO_INIT.replace("X = np.random.randn(200, 2)", "X = np.random.randn(2, 200)")
        .replace("y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)", "y = ((X[0] * X[1]) > 0).astype(float).reshape(1, -1)")
        .replace("W1 = np.zeros((2, 8))", "W1 = np.zeros((8, 2))")
        .replace("b1 = np.zeros((1, 8))", "b1 = np.zeros((8, 1))")
        .replace("W2 = np.zeros((8, 1))", "W2 = np.zeros((1, 8))")
        .replace("h = np.tanh(X @ W1 + b1)", "h = np.tanh(W1 @ X + b1)")
        .replace("out = 1 / (1 + np.exp(-(h @ W2 + b2)))", "out = 1 / (1 + np.exp(-(W2 @ h + b2)))")
        .replace("/ len(X)", "/ X.shape[1]")
        .replace("dW2 = h.T @ d_out", "dW2 = d_out @ h.T")
        .replace("db2 = d_out.sum(axis=0, keepdims=True)", "db2 = d_out.sum(axis=1, keepdims=True)")
        .replace("d_h = d_out @ W2.T * (1 - h ** 2)", "d_h = W2.T @ d_out * (1 - h ** 2)")
        .replace("dW1 = X.T @ d_h", "dW1 = d_h @ X.T")
        .replace("db1 = d_h.sum(axis=0, keepdims=True)", "db1 = d_h.sum(axis=1, keepdims=True)")
    )
    path = write(tmp_path, "columns_zero.py", text)
    report = check(path)
    assert [f["line"] for f in _symmetric(report)] == [line_of(path, "W1 = np.zeros")]
    assert [f for f in errors(report) if f["code"] != "BPD611"] == []  # its gradients are right
