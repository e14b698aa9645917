"""Nesterov momentum written as one look-ahead update, `v = mu * v - lr * g` (or `v *= mu; v -= lr * g`)
then `p += mu * v - lr * g`: the step is a sum of terms, and the one that names the gradient is
subtracted, so the update descends (its first step is -(1 + mu) * lr * g). The sign the `+=` gives the
step is not the gradient's: the term's own sign counts. The same update with `+ lr * g` climbs, and is
named at its line; a wrong derivative under such a step is still found.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

OPTIMIZER_CLASS = '''\
import numpy as np


class Param:
    def __init__(self, value):
        self.data = value
        self.grad = np.zeros_like(value)


class Dense:
    def __init__(self, fan_in, fan_out, rng):
        self.W = Param(rng.normal(0.0, 1.0 / np.sqrt(fan_in), (fan_in, fan_out)))
        self.b = Param(np.zeros(fan_out))

    def forward(self, x):
        self.inp = x
        return x @ self.W.data + self.b.data

    def backward(self, dy):
        self.W.grad += self.inp.T @ dy
        self.b.grad += dy.sum(axis=0)
        return dy @ self.W.data.T


class Sigmoid:
    def forward(self, x):
        self.s = 1.0 / (1.0 + np.exp(-x))
        return self.s

    def backward(self, dy):
        return dy * self.s * (1.0 - self.s)


class NesterovSGD:
    def __init__(self, params, lr=0.1, mu=0.85):
        self.params = params
        self.lr = lr
        self.mu = mu
        self.vel = [np.zeros_like(p.data) for p in params]

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0.0)

    def step(self):
        for p, vel in zip(self.params, self.vel):
            vel *= self.mu
            vel -= self.lr * p.grad
            p.data += self.mu * vel - self.lr * p.grad


rng = np.random.default_rng(4)
X = rng.normal(size=(160, 3))
t = (X[:, :1] * X[:, 1:2] > 0).astype(float)
net = [Dense(3, 10, rng), Sigmoid(), Dense(10, 1, rng)]
params = [net[0].W, net[0].b, net[2].W, net[2].b]
opt = NesterovSGD(params)
for it in range(200):
    out = X
    for layer in net:
        out = layer.forward(out)
    loss = 0.5 * np.mean((out - t) ** 2)
    opt.zero_grad()
    grad = (out - t) / len(X)
    for layer in reversed(net):
        grad = layer.backward(grad)
    opt.step()
    if it % 50 == 0:
        print(it, loss)
'''

FLAT_LOOP = '''\
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(120, 2))
y = np.tanh(X @ np.array([[1.5], [-0.7]])) + 0.1 * rng.normal(size=(120, 1))

W1 = rng.normal(scale=0.6, size=(2, 12))
b1 = np.zeros(12)
W2 = rng.normal(scale=0.6, size=(12, 1))
b2 = np.zeros(1)
vW1, vb1, vW2, vb2 = np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
lr, mu = 0.05, 0.9

for epoch in range(250):
    h = np.tanh(X @ W1 + b1)
    pred = h @ W2 + b2
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(X)
    dW2 = h.T @ dpred
    db2 = dpred.sum(axis=0)
    dh = dpred @ W2.T
    dz = dh * (1 - h ** 2)
    dW1 = X.T @ dz
    db1 = dz.sum(axis=0)
    vW1 = mu * vW1 - lr * dW1
    W1 += mu * vW1 - lr * dW1
    vb1 = mu * vb1 - lr * db1
    b1 += mu * vb1 - lr * db1
    vW2 = mu * vW2 - lr * dW2
    W2 += mu * vW2 - lr * dW2
    vb2 = mu * vb2 - lr * db2
    b2 += mu * vb2 - lr * db2
    if epoch % 50 == 0:
        print(epoch, loss)
'''

CLASS_UPDATE = "            p.data += self.mu * vel - self.lr * p.grad\n"
FLAT_UPDATE = "    W2 += mu * vW2 - lr * dW2\n"


def test_an_optimizer_class_whose_step_subtracts_the_gradient_term_is_clean(tmp_path):
    report = check(planted(tmp_path, "ok.py", OPTIMIZER_CLASS, CLASS_UPDATE, CLASS_UPDATE), training=True)
    assert errors(report) == []
    assert any(m["layer"] == "training step" for m in report["measurements"])


def test_a_flat_loop_whose_update_subtracts_the_gradient_term_is_clean(tmp_path):
    report = check(planted(tmp_path, "ok.py", FLAT_LOOP, FLAT_UPDATE, FLAT_UPDATE), training=True)
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} >= {"W1", "W2"}


def test_an_optimizer_class_adding_the_gradient_term_is_named_at_its_update(tmp_path):
    wrong = "            p.data += self.mu * vel + self.lr * p.grad\n"
    path = planted(tmp_path, "bug.py", OPTIMIZER_CLASS, CLASS_UPDATE, wrong)
    (first, *_) = errors(check(path, training=True))
    assert first["line"] == line_of(path, wrong.strip())
    assert "climbs" in first["message"] and "`self.lr * p.grad`" in first["message"]


def test_a_flat_loop_adding_the_gradient_term_is_named_at_its_update(tmp_path):
    wrong = "    W2 += mu * vW2 + lr * dW2\n"
    path = planted(tmp_path, "bug.py", FLAT_LOOP, FLAT_UPDATE, wrong)
    found = errors(check(path, training=True))
    assert [f["line"] for f in found] == [line_of(path, wrong.strip())]
    assert "subtract `lr * dW2`" in found[0]["message"]


def test_a_wrong_derivative_under_the_look_ahead_step_is_still_found(tmp_path):
    right, wrong = "        return dy * self.s * (1.0 - self.s)\n", "        return dy * (1.0 - self.s)\n"
    path = planted(tmp_path, "bug.py", OPTIMIZER_CLASS, right, wrong)
    assert errors(check(path, training=True))[0]["line"] == line_of(path, wrong.strip())
    right, wrong = "    dz = dh * (1 - h ** 2)\n", "    dz = dh * (1 - h)\n"
    path = planted(tmp_path, "bug2.py", FLAT_LOOP, right, wrong)
    assert errors(check(path, training=True))[0]["line"] == line_of(path, wrong.strip())
