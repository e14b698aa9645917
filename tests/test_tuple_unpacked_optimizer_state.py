"""Optimiser state written as one tuple-unpacked statement: momentum's velocities
`vW1, vb1 = mu * vW1 - lr * dW1, mu * vb1 - lr * db1` then `W1 += vW1`, the same kept under a dict's
keys (`V["W1"], V["b1"] = ...`) or a layer's attributes (`layer.vW, layer.vb = ...`), and Adam's moments
`m, s = b1 * m + (1 - b1) * g, b2 * s + (1 - b2) * g * g`. Each velocity or moment is read where that
statement sets it, as its one-statement spelling is, so the training step is found and replayed and
every parameter measured: a correct program is clean, a gradient off by a factor is named where it is
computed. (Before, a flat script or a function-style program written this way was "nothing to check".)
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, step_verdicts

FLAT_MOMENTUM = '''\
import numpy as np

rng = np.random.default_rng(21)
X = rng.normal(size=(72, 4))
labels = (X[:, 0] - 0.5 * X[:, 3] > 0).astype(int)
W1 = rng.normal(size=(4, 10)) * 0.4
b1 = np.zeros(10)
W2 = rng.normal(size=(10, 2)) * 0.4
b2 = np.zeros(2)
vW1, vb1, vW2, vb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
lr, mu = 0.1, 0.9
for it in range(150):
    h = np.maximum(0, X @ W1 + b1)
    logits = h @ W2 + b2
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(len(X)), labels]))
    dlogits = probs.copy()
    dlogits[np.arange(len(X)), labels] -= 1
    dlogits /= len(X)
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ W2.T
    dh[h <= 0] = 0
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0)
    vW1, vb1, vW2, vb2 = mu * vW1 - lr * dW1, mu * vb1 - lr * db1, mu * vW2 - lr * dW2, mu * vb2 - lr * db2
    W1 += vW1; b1 += vb1; W2 += vW2; b2 += vb2
    if it % 50 == 0:
        print(it, loss)
'''

# the velocities as above, the parameters moved by one tuple-unpacked rebinding too
FLAT_MOMENTUM_REBOUND = FLAT_MOMENTUM.replace(
    "    W1 += vW1; b1 += vb1; W2 += vW2; b2 += vb2\n", "    W1, b1, W2, b2 = W1 + vW1, b1 + vb1, W2 + vW2, b2 + vb2\n"
)

# PyTorch's momentum: the velocity sums the gradients, the rate is applied where it is added
FLAT_HEAVY_BALL = FLAT_MOMENTUM.replace(
    "    vW1, vb1, vW2, vb2 = mu * vW1 - lr * dW1, mu * vb1 - lr * db1, mu * vW2 - lr * dW2, mu * vb2 - lr * db2\n"
    "    W1 += vW1; b1 += vb1; W2 += vW2; b2 += vb2\n",
    "    vW1, vb1, vW2, vb2 = mu * vW1 + dW1, mu * vb1 + db1, mu * vW2 + dW2, mu * vb2 + db2\n"
    "    W1 -= lr * vW1; b1 -= lr * vb1; W2 -= lr * vW2; b2 -= lr * vb2\n",
)

FUNCTIONS_ADAM = '''\
import numpy as np


def forward(X, W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    return h @ W2 + b2, h


def gradients(X, Y, W2, out, h):
    dout = (out - Y) / X.shape[0]
    dW2 = h.T @ dout
    db2 = dout.sum(axis=0)
    dz = dout @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dz
    db1 = dz.sum(axis=0)
    return dW1, db1, dW2, db2


rng = np.random.default_rng(6)
X = rng.normal(size=(44, 4))
Y = X[:, :1] * X[:, 1:2] - 0.3 * X[:, 2:3]
W1 = rng.normal(size=(4, 12)) * 0.4
b1 = np.zeros(12)
W2 = rng.normal(size=(12, 1)) * 0.4
b2 = np.zeros(1)
mW1, mb1, mW2, mb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
sW1, sb1, sW2, sb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
for t in range(1, 301):
    out, h = forward(X, W1, b1, W2, b2)
    loss = 0.5 * np.mean((out - Y) ** 2)
    dW1, db1, dW2, db2 = gradients(X, Y, W2, out, h)
    mW1, sW1 = beta1 * mW1 + (1 - beta1) * dW1, beta2 * sW1 + (1 - beta2) * dW1 * dW1
    mb1, sb1 = beta1 * mb1 + (1 - beta1) * db1, beta2 * sb1 + (1 - beta2) * db1 * db1
    mW2, sW2 = beta1 * mW2 + (1 - beta1) * dW2, beta2 * sW2 + (1 - beta2) * dW2 * dW2
    mb2, sb2 = beta1 * mb2 + (1 - beta1) * db2, beta2 * sb2 + (1 - beta2) * db2 * db2
    W1 = W1 - lr * (mW1 / (1 - beta1 ** t)) / (np.sqrt(sW1 / (1 - beta2 ** t)) + eps)
    b1 = b1 - lr * (mb1 / (1 - beta1 ** t)) / (np.sqrt(sb1 / (1 - beta2 ** t)) + eps)
    W2 = W2 - lr * (mW2 / (1 - beta1 ** t)) / (np.sqrt(sW2 / (1 - beta2 ** t)) + eps)
    b2 = b2 - lr * (mb2 / (1 - beta1 ** t)) / (np.sqrt(sb2 / (1 - beta2 ** t)) + eps)
    if t % 100 == 1:
        print(t, loss)
'''

FUNCTIONS_DICT_MOMENTUM = '''\
import numpy as np


def forward(P, X):
    h = np.tanh(X @ P["W1"] + P["b1"])
    return h @ P["W2"] + P["b2"], h


def backward(P, X, Y, out, h):
    dout = (out - Y) / X.shape[0]
    g = {"W2": h.T @ dout, "b2": dout.sum(axis=0)}
    dz = dout @ P["W2"].T * (1 - h ** 2)
    g["W1"] = X.T @ dz
    g["b1"] = dz.sum(axis=0)
    return g


rng = np.random.default_rng(13)
X = rng.normal(size=(52, 3))
Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
P = {"W1": rng.normal(size=(3, 10)) * 0.5, "b1": np.zeros(10), "W2": rng.normal(size=(10, 1)) * 0.5, "b2": np.zeros(1)}
V = {k: np.zeros_like(p) for k, p in P.items()}
lr, mu = 0.05, 0.9
for epoch in range(300):
    out, h = forward(P, X)
    loss = 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))
    g = backward(P, X, Y, out, h)
    V["W1"], V["b1"] = mu * V["W1"] - lr * g["W1"], mu * V["b1"] - lr * g["b1"]
    V["W2"], V["b2"] = mu * V["W2"] - lr * g["W2"], mu * V["b2"] - lr * g["b2"]
    P["W1"] += V["W1"]
    P["b1"] += V["b1"]
    P["W2"] += V["W2"]
    P["b2"] += V["b2"]
    if epoch % 100 == 0:
        print(epoch, loss)
'''

CLASS_LAYERS_MOMENTUM = '''\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) * np.sqrt(1.0 / n_in)
        self.b = np.zeros(n_out)
        self.vW, self.vb = np.zeros_like(self.W), np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T


class Sigmoid:
    def forward(self, x):
        self.y = 1.0 / (1.0 + np.exp(-x))
        return self.y

    def backward(self, dy):
        return dy * self.y * (1.0 - self.y)


rng = np.random.default_rng(17)
X = rng.normal(size=(60, 4))
T = (X[:, :1] - X[:, 2:3] > 0).astype(float)
net = [Linear(4, 8, rng), Sigmoid(), Linear(8, 1, rng), Sigmoid()]
lr, mu = 0.5, 0.9
for epoch in range(400):
    y = X
    for layer in net:
        y = layer.forward(y)
    loss = 0.5 * np.sum((y - T) ** 2) / len(X)
    d = (y - T) / len(X)
    for layer in reversed(net):
        d = layer.backward(d)
    for layer in net:
        if isinstance(layer, Linear):
            layer.vW, layer.vb = mu * layer.vW - lr * layer.dW, mu * layer.vb - lr * layer.db
            layer.W += layer.vW
            layer.b += layer.vb
    if epoch % 100 == 0:
        print(epoch, loss)
'''

FLAT = {"W1": "ok", "b1": "ok", "W2": "ok", "b2": "ok"}
KEYED = {"P['W1']": "ok", "P['b1']": "ok", "P['W2']": "ok", "P['b2']": "ok"}
LAYERS = {"net[0].W": "ok", "net[0].b": "ok", "net[2].W": "ok", "net[2].b": "ok"}

# (program, the statement computing W1's gradient, the same doubled, what the step measures, W1's name there)
CASES = {
    "flat momentum": (FLAT_MOMENTUM, "    dW1 = X.T @ dh\n", "    dW1 = X.T @ dh * 2\n", FLAT, "W1"),
    "flat momentum rebound": (FLAT_MOMENTUM_REBOUND, "    dW1 = X.T @ dh\n", "    dW1 = X.T @ dh * 2\n", FLAT, "W1"),
    "flat heavy ball": (FLAT_HEAVY_BALL, "    dW1 = X.T @ dh\n", "    dW1 = X.T @ dh * 2\n", FLAT, "W1"),
    "functions adam": (FUNCTIONS_ADAM, "    dW1 = X.T @ dz\n", "    dW1 = X.T @ dz * 2\n", FLAT, "W1"),
    "functions dict momentum": (FUNCTIONS_DICT_MOMENTUM, '    g["W1"] = X.T @ dz\n', '    g["W1"] = X.T @ dz * 2\n', KEYED, "P['W1']"),
    "class layers momentum": (CLASS_LAYERS_MOMENTUM, "        self.dW = self.x.T @ dy\n", "        self.dW = self.x.T @ dy * 2\n", LAYERS, "net[0].W"),
}


def _warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "warning"]


@pytest.mark.parametrize("case", CASES)
def test_a_correct_program_with_tuple_unpacked_optimizer_state_is_replayed_and_clean(tmp_path, case):
    program, right, _, measured, _ = CASES[case]
    report = check(planted(tmp_path, "ok.py", program, right, right), training=True)
    assert errors(report) == [] and _warnings(report) == [], report["findings"]
    assert step_verdicts(report) == measured


@pytest.mark.parametrize("case", CASES)
def test_a_doubled_gradient_under_tuple_unpacked_optimizer_state_is_named(tmp_path, case):
    program, right, wrong, measured, first = CASES[case]
    path = planted(tmp_path, "bug.py", program, right, wrong)
    report = check(path, training=True)
    verdicts = step_verdicts(report)
    assert verdicts == {**measured, first: "mismatch"} or verdicts == {
        **measured, **{k: "mismatch" for k in measured if k.endswith(".W")}
    }  # the class's layers share their backward: every Linear's W is wrong  # fmt: skip
    found = errors(report)  # BPD108 from the step; for the class, its layer check's BPD101 first
    assert found and found[0]["line"] == line_of(path, wrong.strip()) and found[0]["code"] in ("BPD101", "BPD108")
    assert "2 ×" in found[0]["message"]


def test_the_tuple_unpacked_plain_step_stays_read(tmp_path):
    """`W1, b1 = W1 - lr * dW1, b1 - lr * db1`: read before this change too; kept so."""
    program = FLAT_MOMENTUM.replace(
        "    vW1, vb1, vW2, vb2 = mu * vW1 - lr * dW1, mu * vb1 - lr * db1, mu * vW2 - lr * dW2, mu * vb2 - lr * db2\n"
        "    W1 += vW1; b1 += vb1; W2 += vW2; b2 += vb2\n",
        "    W1, b1 = W1 - lr * dW1, b1 - lr * db1\n    W2, b2 = W2 - lr * dW2, b2 - lr * db2\n",
    )
    report = check(planted(tmp_path, "ok.py", program, "    dW1 = X.T @ dh\n", "    dW1 = X.T @ dh\n"), training=True)
    assert errors(report) == [] and _warnings(report) == []
    assert step_verdicts(report) == FLAT
    path = planted(tmp_path, "bug.py", program, "    dW1 = X.T @ dh\n", "    dW1 = X.T @ dh * 2\n")
    report = check(path, training=True)
    assert step_verdicts(report) == {**FLAT, "W1": "mismatch"}
    assert errors(report)[0]["line"] == line_of(path, "dW1 = X.T @ dh * 2")
