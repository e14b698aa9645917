"""Programs that read MNIST from LeCun's IDX files (`train-images-idx3-ubyte`), absent here.

The file read is answered with synthetic digits in the same layout (a big-endian header, then
one byte per pixel or label), as a real file so that `np.fromfile` reads it; the program then
trains on them and its training step is checked. `fig, ax = plt.subplots(...)` of a missing
matplotlib unpacks into a figure and its axes."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PROGRAM = '''\
import os
import struct

import matplotlib.pyplot as plt
import numpy as np


def load_mnist(path, kind="train"):
    labels_path = os.path.join(path, "%s-labels-idx1-ubyte" % kind)
    images_path = os.path.join(path, "%s-images-idx3-ubyte" % kind)
    with open(labels_path, "rb") as lbpath:
        magic, n = struct.unpack(">II", lbpath.read(8))
        labels = np.fromfile(lbpath, dtype=np.uint8)
    with open(images_path, "rb") as imgpath:
        magic, num, rows, cols = struct.unpack(">IIII", imgpath.read(16))
        images = np.fromfile(imgpath, dtype=np.uint8).reshape(len(labels), 784)
    return images / 255.0, labels


X_train, y_train = load_mnist("", kind="train")
fig, ax = plt.subplots(nrows=2, ncols=5)
ax = ax.flatten()
for i in range(10):
    ax[i].imshow(X_train[y_train == i][0].reshape(28, 28), cmap="Greys")
plt.show()

rng = np.random.RandomState(1)
w_h = rng.normal(scale=0.1, size=(784, 30))
b_h = np.zeros(30)
w_out = rng.normal(scale=0.1, size=(30, 10))
b_out = np.zeros(10)
onehot = np.eye(10)[y_train]
eta, l2 = 0.5, 0.01

for epoch in range(5):
    for start in range(0, len(X_train), 100):
        xb, yb = X_train[start:start + 100], onehot[start:start + 100]
        a_h = 1 / (1 + np.exp(-(xb @ w_h + b_h)))
        a_out = 1 / (1 + np.exp(-(a_h @ w_out + b_out)))
        delta_out = (a_out - yb) / len(xb)
        delta_h = delta_out @ w_out.T * a_h * (1 - a_h)
        w_out -= eta * (a_h.T @ delta_out + l2 * w_out)
        b_out -= eta * delta_out.sum(axis=0)
        w_h -= eta * (xb.T @ delta_h + l2 * w_h)
        b_h -= eta * delta_h.sum(axis=0)
'''


def test_a_program_reading_mnist_idx_files_is_trained_on_synthetic_digits_and_checked(tmp_path):
    path = write(tmp_path, "mlp.py", PROGRAM)
    report = check(path)
    assert errors(report) == []
    said = " ".join(f["message"] for f in report["findings"] if f["name"] == "synthetic-data")
    assert "train-labels-idx1-ubyte" in said and "train-images-idx3-ubyte" in said and "IDX layout" in said
    assert {p["name"] for p in replayed(report)["parameters"]} == {"w_h", "b_h", "w_out", "b_out"}
    assert not any(f["name"] == "program-stopped" for f in report["findings"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.py"]  # nothing written beside the user's file


def test_weight_decay_in_the_update_of_a_step_that_computes_no_loss_is_no_penalty_warning(tmp_path):
    """The step computes no loss, so there is no watched loss that could leave the penalty out."""
    path = write(tmp_path, "mlp.py", PROGRAM)
    assert [f for f in check(path)["findings"] if f["name"] == "step-penalty-mismatch"] == []


def test_a_hidden_delta_without_the_sigmoid_derivative_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "mlp.py", PROGRAM, "delta_h = delta_out @ w_out.T * a_h * (1 - a_h)", "delta_h = delta_out @ w_out.T")
    found = errors(check(path))
    assert {f["line"] for f in found} == {line_of(path, "delta_h = delta_out @ w_out.T")}
