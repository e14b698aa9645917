"""A program whose weights have sizes of their own (784 inputs, ten classes), whose data loader stops
on a machine without the data: the synthetic arrays given in the loader's place are made at the
sizes the program's first errors name ("shapes (1000,12) and (784,32) not aligned"), so its training
step runs and is checked as on its own data."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

# the file's own loader raises on the missing file; the network's sizes are written into it
DIGITS = '''\
import numpy as np


def load_digits_table(path="digits/train.txt"):
    table = np.loadtxt(path, delimiter=",")
    return table[:, 1:] / 255.0, table[:, 0].astype(int)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


images, labels = load_digits_table()
targets = np.eye(10)[labels]
n = len(images)
W1 = np.random.randn(784, 32) * 0.01
b1 = np.zeros(32)
W2 = np.random.randn(32, 10) * 0.01
b2 = np.zeros(10)
lr = 0.1
for epoch in range(50):
    Z1 = images @ W1 + b1
    A1 = np.maximum(0, Z1)
    P = softmax(A1 @ W2 + b2)
    loss = -np.sum(targets * np.log(P)) / n
    dZ2 = (P - targets) / n
    dZ1 = dZ2 @ W2.T * (Z1 > 0)
    W2 -= lr * A1.T @ dZ2
    b2 -= lr * dZ2.sum(axis=0)
    W1 -= lr * images.T @ dZ1
    b1 -= lr * dZ1.sum(axis=0)
    print(epoch, loss)
'''

# a loader beside the file exits; main() trains a network of 784 inputs and ten sigmoid outputs
PIXELS = '''\
import os
import sys

import numpy as np


def read_pixels(folder="pixels"):
    if not os.path.isdir(folder):
        print("put the pixel files in", folder)
        sys.exit(1)
    x = np.load(os.path.join(folder, "x.npy"))
    y = np.load(os.path.join(folder, "y_onehot.npy"))
    return x[:50000], y[:50000], x[50000:], y[50000:]
'''

SIGMOID_NET = '''\
import numpy as np

from pixels import read_pixels


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def main():
    x_train, y_train, x_test, y_test = read_pixels()
    m = x_train.shape[0]
    W1 = np.random.randn(784, 30) * 0.05
    b1 = np.zeros((1, 30))
    W2 = np.random.randn(30, 10) * 0.05
    b2 = np.zeros((1, 10))
    for step in range(20):
        Z1 = x_train @ W1 + b1
        A1 = sigmoid(Z1)
        Z2 = A1 @ W2 + b2
        A2 = sigmoid(Z2)
        cost = 0.5 * np.sum((A2 - y_train) ** 2) / m
        dZ2 = (A2 - y_train) * A2 * (1 - A2) / m
        dZ1 = dZ2 @ W2.T * A1 * (1 - A1)
        W2 -= 0.5 * A1.T @ dZ2
        b2 -= 0.5 * dZ2.sum(axis=0, keepdims=True)
        W1 -= 0.5 * x_train.T @ dZ1
        b1 -= 0.5 * dZ1.sum(axis=0, keepdims=True)
        print(step, cost)


if __name__ == "__main__":
    main()
'''


def _synthetic(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD022"]


def test_a_network_of_784_inputs_gets_synthetic_images_of_784_pixels_and_is_clean(tmp_path):
    path = write(tmp_path, "digits.py", DIGITS)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "b1", "W2", "b2"}
    (synthetic,) = _synthetic(report)
    assert synthetic["line"] == line_of(path, "= load_digits_table()")
    assert "(1000, 784)" in synthetic["message"]


def test_a_relu_derivative_left_out_of_the_784_input_network_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "digits.py", DIGITS, "dZ1 = dZ2 @ W2.T * (Z1 > 0)", "dZ1 = dZ2 @ W2.T")
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "dZ1 = dZ2 @ W2.T")}


def test_main_training_784_pixels_from_a_loader_that_exits_is_clean(tmp_path):
    write(tmp_path, "pixels.py", PIXELS)
    path = write(tmp_path, "train.py", SIGMOID_NET)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "b1", "W2", "b2"}
    assert [f["line"] for f in _synthetic(report)] == [line_of(path, "= read_pixels()")]


def test_a_sigmoid_derivative_taken_of_the_pre_activation_is_found_at_its_line(tmp_path):
    write(tmp_path, "pixels.py", PIXELS)
    path = planted(tmp_path, "train.py", SIGMOID_NET, "dZ1 = dZ2 @ W2.T * A1 * (1 - A1)", "dZ1 = dZ2 @ W2.T * Z1 * (1 - Z1)")
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "dZ1 = dZ2 @ W2.T * Z1 * (1 - Z1)")}
