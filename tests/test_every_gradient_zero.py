"""Every gradient of the training step exactly zero and the loss the same number at every replayed
step: nothing reaches the loss. A ReLU on the output layer clamps every logit to 0 once the logits
are negative, so a binary cross-entropy sticks at ln 2 and no gradient check finds anything wrong.
The report says so (BPD622, a warning) instead of "no problems found"; the same network with a
linear output layer is clean.
"""

from __future__ import annotations

import math

from tests.userfiles import check, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(1)


class Layer:
    def __init__(self, n_in, n_out, act):
        self.W = rng.normal(size=(n_in, n_out)) * np.sqrt(2.0 / n_in)
        self.b = np.full(n_out, -3.0) if act == "relu" and n_out == 1 else np.zeros(n_out)
        self.act = act

    def forward(self, x):
        self.x, self.z = x, x @ self.W + self.b
        return np.maximum(self.z, 0) if self.act == "relu" else self.z

    def backward(self, g):
        g = g * (self.z > 0) if self.act == "relu" else g
        self.dW, self.db = self.x.T @ g, g.sum(0)
        return g @ self.W.T


X = rng.uniform(-1, 1, (200, 3))
y = (X[:, :1] + X[:, 1:2] > 0).astype(float)
net = [Layer(3, 8, "relu"), Layer(8, 1, "linear")]
for epoch in range(300):
    s = X
    for layer in net:
        s = layer.forward(s)
    loss = np.mean(np.logaddexp(0, s) - y * s)
    g = (1 / (1 + np.exp(-s)) - y) / len(y)
    for layer in reversed(net):
        g = layer.backward(g)
    for layer in net:
        layer.W -= 0.5 * layer.dW
        layer.b -= 0.5 * layer.db
    if epoch % 100 == 0:
        print(epoch, loss)
'''

LINEAR = 'net = [Layer(3, 8, "relu"), Layer(8, 1, "linear")]\n'


def test_an_output_relu_that_is_off_everywhere_is_named(tmp_path):
    report = check(planted(tmp_path, "relu_out.py", PROGRAM, LINEAR, 'net = [Layer(3, 8, "relu"), Layer(8, 1, "relu")]\n'), training=True)
    (finding,) = [f for f in report["findings"] if f["code"] == "BPD622"]
    assert finding["severity"] == "warning"
    assert "every gradient" in finding["message"] and "ReLU on the output layer" in finding["message"]
    assert f"{math.log(2):.6g}" in finding["message"]


def test_a_linear_output_is_clean(tmp_path):
    report = check(planted(tmp_path, "linear_out.py", PROGRAM, LINEAR, LINEAR), training=True)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
