"""`step-saturated-units` (BPD621): inputs on a raw scale (pixel values up to 255, readings in the
thousands) put most units of a tanh or sigmoid hidden layer at the flat ends of their curve for every
sample, so the loss creeps although every gradient is right. Found in a script whose sigmoid is written
out (`1 / (1 + np.exp(-z))`) and in a model class whose layer keeps `self.H`; the same programs with
their inputs scaled are clean, and so is an output sigmoid that no product reads.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(0)
images = rng.integers(0, 256, size=(200, 16)).astype(float)
labels = (images[:, :8].sum(axis=1) > images[:, 8:].sum(axis=1)).astype(float).reshape(-1, 1)
X = images / 255.0
W1 = rng.normal(0, 0.5, (16, 12))
b1 = np.zeros(12)
W2 = rng.normal(0, 0.5, (12, 1))
b2 = np.zeros(1)
for step in range(300):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    out = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    loss = -np.mean(labels * np.log(out + 1e-12) + (1 - labels) * np.log(1 - out + 1e-12))
    d_out = (out - labels) / len(X)
    d_W2 = a1.T @ d_out
    d_b2 = d_out.sum(axis=0)
    d_a1 = d_out @ W2.T * a1 * (1 - a1)
    d_W1 = X.T @ d_a1
    d_b1 = d_a1.sum(axis=0)
    W1 -= 0.5 * d_W1
    b1 -= 0.5 * d_b1
    W2 -= 0.5 * d_W2
    b2 -= 0.5 * d_b2
'''

MODEL = '''\
import numpy as np


class Regressor:
    def __init__(self, n_in, n_hidden, seed=2):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, 1))
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.H = np.tanh(X @ self.W1 + self.b1)
        return self.H @ self.W2 + self.b2

    def backward(self, d_out):
        self.dW2 = self.H.T @ d_out
        self.db2 = d_out.sum(axis=0)
        d_pre = d_out @ self.W2.T * (1 - self.H ** 2)
        self.dW1 = self.X.T @ d_pre
        self.db1 = d_pre.sum(axis=0)


rng = np.random.default_rng(1)
readings = rng.uniform(500, 3000, size=(150, 3))   # millimetres
target = np.sin(readings[:, :1] / 1000.0)
X = readings / 1000.0
net = Regressor(3, 10)
for epoch in range(400):
    pred = net.forward(X)
    loss = np.mean((pred - target) ** 2)
    net.backward(2 * (pred - target) / len(X))
    net.W1 -= 0.05 * net.dW1
    net.b1 -= 0.05 * net.db1
    net.W2 -= 0.05 * net.dW2
    net.b2 -= 0.05 * net.db2
'''

CASES = {
    "written-out sigmoid, pixel values": (SCRIPT, "X = images / 255.0", "X = images", "a1 = 1 / (1 + np.exp"),
    "tanh layer of a model, millimetres": (MODEL, "X = readings / 1000.0", "X = readings", "self.H = np.tanh"),
}


@pytest.mark.parametrize("case", CASES)
def test_raw_scale_inputs_saturate_the_hidden_layer(tmp_path, case):
    text, scaled, raw, hidden = CASES[case]
    path = planted(tmp_path, "train.py", text, scaled, raw)
    report = check(path, training=True)
    assert errors(report) == [] or all(f["code"] == "BPD621" for f in errors(report))
    (found,) = [f for f in report["findings"] if f["code"] == "BPD621"]
    # named where the unscaled inputs are bound, the line to change, with the saturated layer beside it
    assert found["line"] == line_of(path, raw) and line_of(path, hidden) in found["highlight"], found
    assert "for nearly every sample" in found["message"] and "never standardised" in found["message"] and "standardise each feature" in found["message"]


@pytest.mark.parametrize("case", CASES)
def test_scaled_inputs_are_clean(tmp_path, case):
    text, scaled, _raw, _hidden = CASES[case]
    report = check(planted(tmp_path, "train.py", text, scaled, scaled), training=True)
    assert [f for f in report["findings"] if f["code"] == "BPD621"] == []
    assert errors(report) == []
