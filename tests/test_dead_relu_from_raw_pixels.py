"""ReLU units alive at the first step and dead after a few updates, in a network fed pixel values from
0 to 255 that were never scaled: the first updates are huge because the inputs are, and they push the
units' inputs below zero for good. The input's scale is named, at the line that makes it, with the
division by 255 as the fix, not a lower learning rate; the same program on scaled pixels is clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(5)
shapes = rng.uniform(0, 1, size=(3, 36)) > 0.5
labels = rng.integers(0, 3, size=450)
images = shapes[labels] * rng.uniform(120, 255, size=(450, 1)) + rng.uniform(0, 50, size=(450, 36))
X = np.clip(images, 0, 255).astype(np.uint8).astype(np.float64)
Y = np.eye(3)[labels]

W1 = rng.normal(0, 0.1, size=(36, 24))
b1 = np.zeros(24)
W2 = rng.normal(0, 0.1, size=(24, 3))
b2 = np.zeros(3)
lr = 0.1
for epoch in range(200):
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W2 + b2
    Z2 -= Z2.max(axis=1, keepdims=True)
    P = np.exp(Z2) / np.exp(Z2).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(P + 1e-12), axis=1))
    dZ2 = (P - Y) / len(X)
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = dZ2 @ W2.T * (Z1 > 0)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

RAW = "X = np.clip(images, 0, 255).astype(np.uint8).astype(np.float64)\n"


def finding(report: dict) -> dict:
    (found,) = [f for f in report["findings"] if f["code"] == "BPD612"]
    return found


def test_the_raw_pixels_are_named(tmp_path):
    path = planted(tmp_path, "pixels.py", PROGRAM, RAW, RAW)
    found = finding(check(path, training=True))
    assert found["line"] == line_of(path, "X = np.clip(images")
    assert found["fix"] == "X = X / 255.0"
    assert "learning rate" not in found["message"]


def test_scaled_pixels_are_clean(tmp_path):
    path = planted(tmp_path, "pixels.py", PROGRAM, RAW, RAW.replace("np.float64)", "np.float64) / 255.0"))
    report = check(path, training=True)
    assert errors(report) == [] and not [f for f in report["findings"] if f["code"] == "BPD612"]
