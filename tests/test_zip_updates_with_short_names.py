"""`for P, G in zip((W1, b1, W2, b2), (dW1, db1, dW2, db2)): P -= lr * G`: the loop variables' names
say nothing, the tuples written out do (parameters' names, gradients' names), so the update is a
parameter update and the program's step is replayed."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(2)
X = rng.standard_normal((12, 3))
Y = (X[:, :1] > 0).astype(float)
m = X.shape[0]
W1 = 0.5 * rng.standard_normal((3, 5)); b1 = np.zeros((1, 5))
W2 = 0.5 * rng.standard_normal((5, 1)); b2 = np.zeros((1, 1))
lr = 0.5
for epoch in range(300):
    Z1 = X @ W1 + b1
    H = np.tanh(Z1)
    Z2 = H @ W2 + b2
    A = 1 / (1 + np.exp(-Z2))
    loss = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ2 = (A - Y) / m
    dW2 = H.T @ dZ2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0, keepdims=True)
    for P, G in zip((W1, b1, W2, b2), (dW1, db1, dW2, db2)):
        P -= lr * G
"""


def test_a_zip_of_written_out_parameters_and_gradients_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "train.py", SCRIPT))
    assert errors(report) == []
    (step,) = report["extras"]["replay"]
    assert len(step["parameters"]) == 4 and not any(p["wrong"] for p in step["parameters"])


def test_a_missing_derivative_in_it_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "dZ1 = (dZ2 @ W2.T) * (1 - H ** 2)", "dZ1 = dZ2 @ W2.T")
    report = check(path)
    assert [f["line"] for f in errors(report)] == [line_of(path, "dZ1 = dZ2 @ W2.T")]


def test_a_zip_of_names_that_are_neither_is_no_update(tmp_path):
    other = SCRIPT.replace("zip((W1, b1, W2, b2), (dW1, db1, dW2, db2))", "zip((H, A), (dZ1, dZ2))").replace(
        "        P -= lr * G\n", "        P -= lr * G\n    W1 -= lr * dW1\n"
    )
    report = check(write(tmp_path, "train.py", other))
    (step,) = report["extras"]["replay"]
    assert [p["name"] for p in step["parameters"]] == ["W1"]
