"""Gradient accumulation: each pass adds its micro-batch's gradient to a sum, and every `k`-th pass
applies the sum (`if count % k == 0:`). With `k` as large as the run the loop hardly ever updates:
that is named (`step-update-skipped`, BPD623, a warning) instead of "nothing was checked", and with a
few micro-batches per update it is not.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(23)
X = rng.normal(size=(320, 4))
Y = (X[:, :1] - X[:, 1:2] * X[:, 2:3] > 0).astype(float)
W1, b1 = rng.normal(scale=0.5, size=(4, 12)), np.zeros(12)
W2, b2 = rng.normal(scale=0.5, size=(12, 1)), np.zeros(1)
k = 4  # micro-batches per update
lr = 0.5
acc = {"W1": 0, "b1": 0, "W2": 0, "b2": 0}
count = 0
for epoch in range(20):
    for start in range(0, len(X), 16):
        xb, yb = X[start:start + 16], Y[start:start + 16]
        h = np.tanh(xb @ W1 + b1)
        p = 1 / (1 + np.exp(-(h @ W2 + b2)))
        loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
        dz = (p - yb) / len(xb) / k
        dh = dz @ W2.T * (1 - h ** 2)
        acc["W1"] = acc["W1"] + xb.T @ dh
        acc["b1"] = acc["b1"] + dh.sum(0)
        acc["W2"] += h.T @ dz
        acc["b2"] += dz.sum(0)
        count += 1
        if count % k == 0:
            W1 -= lr * acc["W1"]
            b1 -= lr * acc["b1"]
            W2 -= lr * acc["W2"]
            b2 -= lr * acc["b2"]
            acc = {"W1": 0, "b1": 0, "W2": 0, "b2": 0}
    print(epoch, loss)
'''

SLOPE = "        dh = dz @ W2.T * (1 - h ** 2)\n"


def test_an_update_that_waits_most_of_the_run_is_named(tmp_path):
    path = planted(tmp_path, "slow.py", PROGRAM, "k = 4  # micro-batches per update\n", "k = 300  # micro-batches per update\n")
    report = check(path)
    (finding,) = [f for f in report["findings"] if f["code"] == "BPD623"]
    assert finding["severity"] == "warning"
    assert finding["line"] == line_of(path, "if count % k == 0:")
    assert "first ran at pass 300" in finding["message"]
    assert all(f["code"] != "BPD007" for f in report["findings"])


def test_an_update_every_few_passes_is_not_named(tmp_path):
    report = check(planted(tmp_path, "fine.py", PROGRAM, SLOPE, SLOPE))
    assert [f for f in report["findings"] if f["code"] == "BPD623"] == []


LAYERS = '''\
import numpy as np

rng = np.random.default_rng(4)


class Linear:
    def __init__(self, n_in, n_out, frozen=False):
        self.W = rng.normal(scale=0.5, size=(n_in, n_out))
        self.frozen = frozen

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, g):
        self.dW = self.x.T @ g
        return g @ self.W.T


X = rng.normal(size=(64, 3))
Y = X @ np.array([[1.0], [-1.0], [0.5]])
net = [Linear(3, 5), Linear(5, 1)]
for it in range(200):
    out = X
    for layer in net:
        out = layer.forward(out)
    loss = np.mean((out - Y) ** 2)
    g = 2 * (out - Y) / len(X)
    for layer in reversed(net):
        g = layer.backward(g)
    for layer in net:
        if not layer.frozen:
            layer.W -= 0.05 * layer.dW
    if it % 50 == 0:
        print(it, loss)
'''


def test_a_layer_flag_that_keeps_every_update_out_is_named(tmp_path):
    path = planted(tmp_path, "frozen.py", LAYERS, "frozen=False", "frozen=True")
    (finding,) = [f for f in check(path)["findings"] if f["code"] == "BPD623"]
    assert finding["line"] == line_of(path, "if not layer.frozen:")
    assert "never ran" in finding["message"] and "never moved" in finding["message"]
    assert [f for f in check(planted(tmp_path, "trained.py", LAYERS, "frozen=False", "frozen=False"))["findings"] if f["code"] == "BPD623"] == []



OPTIMIZER = '''\
class Momentum:
    def __init__(self, lr=0.05, beta=0.9):
        self.lr, self.beta, self.v = lr, beta, None

    def update(self, params, grads):
        if self.v is None:
            self.v = [g * 0 for g in grads]
        for i in range(len(params)):
            self.v[i] = self.beta * self.v[i] - self.lr * grads[i]
            params[i] += self.v[i]
'''

IMPORTING = '''\
import sys
sys.path.append("..")
import numpy as np
from common.optim import Momentum

rng = np.random.default_rng(5)
X = rng.normal(size=(64, 3))
y = X @ np.array([[1.0], [-0.5], [2.0]])
params = [rng.normal(scale=0.1, size=(3, 1)), np.zeros(1)]
opt = Momentum()
for it in range(200):
    err = X @ params[0] + params[1] - y
    loss = np.mean(err ** 2)
    grads = [2 * X.T @ err / len(X), np.array([2 * err.mean()])]
    opt.update(params, grads)
    if it % 50 == 0:
        print(it, loss)
'''


def test_an_update_made_by_an_imported_optimizer_every_pass_is_not_named(tmp_path):
    from tests.userfiles import write

    write(tmp_path, "common/__init__.py", "")
    write(tmp_path, "common/optim.py", OPTIMIZER)  # the book's layout: `sys.path.append("..")` from a chapter's folder
    report = check(write(tmp_path, "ch06/train.py", IMPORTING))
    assert [f for f in report["findings"] if f["code"] == "BPD623"] == []
