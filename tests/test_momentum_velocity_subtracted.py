"""The book's `Momentum.update` whose velocity holds minus the learning rate times the gradient
(`v = momentum * v - lr * grads[key]`) and whose parameters then subtract it (`params[key] -= v`):
every step climbs, and the fix is the `+=` at the update's line, not "subtract the step". The replay
reads the step's sign through the velocity's own statement and names both lines."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def grad(params, X, t):
    p = softmax(X @ params["W"] + params["b"])
    N = len(X)
    loss = -np.sum(t * np.log(p + 1e-9)) / N
    d = (p - t) / N
    return loss, {"W": X.T @ d, "b": d.sum(axis=0)}


np.random.seed(0)
X = np.random.randn(300, 5)
labels = np.argmax(X @ np.random.randn(5, 3), axis=1)
T = np.eye(3)[labels]
params = {"W": np.random.randn(5, 3) * 0.01, "b": np.zeros(3)}
opt = Momentum(lr=0.1)
for epoch in range(100):
    loss, g = grad(params, X, T)
    opt.update(params, g)
    if epoch % 20 == 0:
        print(epoch, loss)
'''

RIGHT = "params[key] += self.v[key]"


def test_the_added_velocity_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "momentum.py", PROGRAM, RIGHT, RIGHT))) == []


def test_a_negative_velocity_subtracted_is_named_at_the_update(tmp_path):
    path = planted(tmp_path, "momentum.py", PROGRAM, RIGHT, "params[key] -= self.v[key]")
    (found,) = errors(check(path))
    update = line_of(path, "params[key] -= self.v[key]")
    # the program's own step is replayed: its update climbs the loss, read through the velocity's sign
    assert (found["code"], found["line"]) == ("BPD108", update)
    assert f"already sets to minus the learning rate times `grads[key]`" in found["message"]
    assert f"(line {line_of(path, 'self.v[key] = self.momentum')})" in found["message"]
    assert found["message"].endswith(f"add the velocity (`+=`) at line {update}")
    assert "subtract the step" not in found["message"]
