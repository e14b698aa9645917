"""A script in the video-tutorial style: samples in columns (`W1.dot(X)`), forward and backward as
functions returning tuples, an update that rebinds, no loss computed, data read from a CSV.

- `sum(np.exp(Z))` (Python's own sum) normalises each column: right for samples in columns.
- The program computes no loss; `backward`'s `dZ2 = A2 - Y_hot` implies the cross-entropy, in
  the loop's names (`-Σ encode(labels)·log A2`).
- `db = np.sum(dZ)` is one number that the update adds to every entry of the bias: named at its
  line, with the axis to sum over.
- `pd.read_csv` of a missing MNIST CSV, with pandas not installed, reads synthetic digits.
"""

from __future__ import annotations

import ast
import importlib.util

import pytest

from backprop_doctor.static.layout import sample_layout
from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(3)
features = rng.random((6, 300))
labels = (features[0] + features[1] > features[2] + 0.5).astype(int) + (features[3] > 0.7)
samples = features.shape[1]


def start(hidden=12):
    W1 = rng.standard_normal((hidden, 6)) * 0.3
    b1 = np.zeros((hidden, 1))
    W2 = rng.standard_normal((3, hidden)) * 0.3
    b2 = np.zeros((3, 1))
    return W1, b1, W2, b2


def relu(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0))
    return E / sum(E)


def encode(y):
    table = np.zeros((3, y.size))
    table[y, np.arange(y.size)] = 1
    return table


def forward(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = relu(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def backward(Z1, A1, A2, W2, X, y):
    Y_hot = encode(y)
    dZ2 = A2 - Y_hot
    dW2 = dZ2.dot(A1.T) / samples
    db2 = np.sum(dZ2, axis=1, keepdims=True) / samples
    dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
    dW1 = dZ1.dot(X.T) / samples
    db1 = np.sum(dZ1, axis=1, keepdims=True) / samples
    return dW1, db1, dW2, db2


def step(W1, b1, W2, b2, dW1, db1, dW2, db2, rate):
    W1 = W1 - rate * dW1
    b1 = b1 - rate * db1
    W2 = W2 - rate * dW2
    b2 = b2 - rate * db2
    return W1, b1, W2, b2


def train(X, y, rate, rounds):
    W1, b1, W2, b2 = start()
    for r in range(rounds):
        Z1, A1, Z2, A2 = forward(W1, b1, W2, b2, X)
        dW1, db1, dW2, db2 = backward(Z1, A1, A2, W2, X, y)
        W1, b1, W2, b2 = step(W1, b1, W2, b2, dW1, db1, dW2, db2, rate)
        if r % 50 == 0:
            print(r, np.mean(np.argmax(A2, 0) == y))
    return W1, b1, W2, b2


train(features, labels, 0.5, 300)
'''


def test_a_method_call_dot_with_the_weight_first_keeps_samples_in_columns():
    assert sample_layout(ast.parse("def f(W1, X):\n    return W1.dot(X)\n")) == "columns"
    assert sample_layout(ast.parse("def f(X, W1):\n    return X.dot(W1)\n")) == "rows"


def test_the_correct_script_is_replayed_against_the_loss_its_output_error_implies(tmp_path):
    report = check(write(tmp_path, "columns.py", SCRIPT))
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "softmax-not-per-row"]
    result = replayed(report)
    assert {p["name"] for p in result["parameters"]} == {"W1", "b1", "W2", "b2"}
    assert not any(p["wrong"] for p in result["parameters"])
    assert result["loss"] == "−Σ encode(y)·log A2"


@pytest.mark.parametrize("bias", ["1", "2"])
def test_a_bias_gradient_summed_over_the_whole_array_is_named_at_its_line(tmp_path, bias):
    right = f"db{bias} = np.sum(dZ{bias}, axis=1, keepdims=True) / samples"
    wrong = f"db{bias} = np.sum(dZ{bias}) / samples"
    path = planted(tmp_path, "columns.py", SCRIPT, right, wrong)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"], finding["pattern"]) == ("BPD108", line_of(path, wrong), "broadcast-gradient")
    assert f"uses `db{bias}`" in finding["message"]
    assert f"one number, where the parameter has shape ({12 if bias == '1' else 3}, 1)" in finding["message"]
    assert "(axis=1, keepdims=True)" in finding["message"]


def test_a_softmax_over_each_row_in_a_column_script_is_still_reported(tmp_path):
    path = planted(tmp_path, "columns.py", SCRIPT, "return E / sum(E)", "return E / E.sum(axis=1, keepdims=True)")
    assert "softmax-not-per-row" in {f["name"] for f in errors(check(path))}


CSV = '''\
import numpy as np
import pandas as pd

table = np.array(pd.read_csv("digit-recognizer/train.csv"))
held_out, rest = table[:1000].T, table[1000:].T
X, y = rest[1:] / 255.0, rest[0]
W = np.zeros((10, 784))
T = np.eye(10)[:, y]
for epoch in range(20):
    Z = W.dot(X)
    P = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)
    W -= 0.5 * (P - T).dot(X.T) / X.shape[1]
'''


def test_a_missing_mnist_csv_reads_synthetic_digits_when_pandas_is_not_installed(tmp_path):
    if importlib.util.find_spec("pandas") is not None:
        pytest.skip("pandas is installed here: the real read_csv runs and raises for the missing file")
    report = check(write(tmp_path, "softmax_regression.py", CSV))
    (synthetic,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert "read_csv('digit-recognizer/train.csv')" in synthetic["message"]
    assert synthetic["line"] == 4
    result = replayed(report)
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("W", False)]
    assert errors(report) == []
