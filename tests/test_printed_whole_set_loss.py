"""A loop that takes its gradient on a minibatch and prints only the whole training set's loss:
the loss its updates follow is the same method on the minibatch, not the printed one (whose
gradient is another function's, by the whole set's samples, and by a batch norm's statistics)."""

from __future__ import annotations

from tests.userfiles import check, errors, replayed, write

PROGRAM = '''\
import numpy as np


class Model:
    def __init__(self, rng):
        self.params = {"W1": rng.randn(3, 16) * 0.5, "b1": np.zeros(16), "W2": rng.randn(16, 1) * 0.3, "b2": np.zeros(1)}

    def forward(self, x):
        p = self.params
        self.x, self.h = x, np.tanh(x @ p["W1"] + p["b1"])
        return self.h @ p["W2"] + p["b2"]

    def loss(self, x, t):
        return 0.5 * np.mean((self.forward(x) - t) ** 2)

    def gradient(self, x, t):
        dy = (self.forward(x) - t) / len(x)
        dh = dy @ self.params["W2"].T * (1 - self.h ** 2)
        return {"W1": x.T @ dh, "b1": dh.sum(0), "W2": self.h.T @ dy, "b2": dy.sum(0)}


rng = np.random.RandomState(0)
x_train = rng.randn(300, 3)
t_train = np.sin(x_train[:, :1]) + x_train[:, 1:2] ** 2
model = Model(rng)
for i in range(500):
    idx = rng.choice(300, 30, replace=False)
    grads = model.gradient(x_train[idx], t_train[idx])
    for key in model.params:
        model.params[key] -= 0.1 * grads[key]
    if i % 100 == 0:
        print(i, model.loss(x_train, t_train))
'''


def test_the_minibatch_loss_is_the_one_the_updates_follow(tmp_path):
    report = check(write(tmp_path, "fit.py", PROGRAM))
    assert errors(report) == []
    step = replayed(report)
    assert step["loss"] == "model.loss" and all(not p["wrong"] for p in step["parameters"])
    assert len(step["parameters"]) == 4
