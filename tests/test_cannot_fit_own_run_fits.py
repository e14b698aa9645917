"""A network whose own training fits all its data, though five of its samples repeated on their own do
not (a slow sigmoid net on noisy XOR: five corners, one twice, settle in a local minimum the sixteen
samples do not): `step-cannot-overfit` is not reported, because the program's own loop, run for as
many passes as it makes, fits its data. A step that fits neither is still reported.

The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, planted, write

MODULE_LOOP = '''\
import numpy as np

rng = np.random.default_rng(108)
corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
inputs = np.repeat(corners, 4, axis=0) + 0.04 * rng.standard_normal((16, 2))
targets = np.repeat(np.array([[0.0], [1.0], [1.0], [0.0]]), 4, axis=0)


def squash(v):
    return 1.0 / (1.0 + np.exp(-v))


Wa = rng.standard_normal((2, 4))
ba = np.zeros((1, 4))
Wb = rng.standard_normal((4, 1))
bb = np.zeros((1, 1))
step = 2.0
for it in range(600):
    ha = squash(inputs @ Wa + ba)
    out = squash(ha @ Wb + bb)
    mse = np.mean((out - targets) ** 2)
    g_out = 2.0 * (out - targets) / len(inputs) * out * (1 - out)
    gWb = ha.T @ g_out
    gbb = g_out.sum(axis=0, keepdims=True)
    g_h = (g_out @ Wb.T) * ha * (1 - ha)
    gWa = inputs.T @ g_h
    gba = g_h.sum(axis=0, keepdims=True)
    Wa -= step * gWa
    ba -= step * gba
    Wb -= step * gWb
    bb -= step * gbb
print("final", mse)
'''

CLASS_NET = '''\
import numpy as np


class TinyNet:
    def __init__(self, seed):
        r = np.random.RandomState(seed)
        self.W1 = r.randn(2, 4)
        self.b1 = np.zeros(4)
        self.W2 = r.randn(4)
        self.b2 = 0.0

    def forward(self, X):
        self.X = X
        self.h = 1.0 / (1.0 + np.exp(-(X @ self.W1 + self.b1)))
        self.p = 1.0 / (1.0 + np.exp(-(self.h @ self.W2 + self.b2)))
        return self.p

    def backward(self, y):
        n = len(y)
        dz = 2.0 * (self.p - y) / n * self.p * (1 - self.p)
        self.dW2 = self.h.T @ dz
        self.db2 = dz.sum()
        dh = np.outer(dz, self.W2) * self.h * (1 - self.h)
        self.dW1 = self.X.T @ dh
        self.db1 = dh.sum(axis=0)


r = np.random.RandomState(11)
X = np.repeat(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), 4, axis=0) + 0.05 * r.randn(16, 2)
Y = np.repeat(np.array([0.0, 1.0, 1.0, 0.0]), 4)
net = TinyNet(11)
lr = 2.0
for epoch in range(600):
    p = net.forward(X)
    loss = np.mean((p - Y) ** 2)
    net.backward(Y)
    net.W1 -= lr * net.dW1
    net.b1 -= lr * net.db1
    net.W2 -= lr * net.dW2
    net.b2 -= lr * net.db2
print("final", loss)
'''


def _found(report):
    return [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]


def test_a_module_loop_that_fits_its_own_data_is_not_told_it_cannot_fit(tmp_path):
    assert not _found(check(write(tmp_path, "xor_loop.py", MODULE_LOOP), training=True))


def test_a_class_network_that_fits_its_own_data_is_not_told_it_cannot_fit(tmp_path):
    assert not _found(check(write(tmp_path, "xor_class.py", CLASS_NET), training=True))


def test_a_rate_too_small_for_its_own_run_and_for_five_samples_is_still_reported(tmp_path):
    # at 0.002 neither the 600 passes on all sixteen samples nor 2,000 on five get far from the start
    bug = planted(tmp_path, "xor_slow.py", MODULE_LOOP, "step = 2.0", "step = 0.002")
    (finding,) = _found(check(bug, training=True))
    assert "cannot fit 5 samples" in finding["message"] and "every gradient it computes is right" in finding["message"]
