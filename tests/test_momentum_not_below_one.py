"""A momentum of 1 or more: the velocity never decays, so every gradient since the first keeps
pushing and the loss climbs whatever the learning rate. Named with the coefficient and the line
that sets it, not as a learning rate to lower.

Two styles: an optimizer class given `momentum=1.0` at its construction, and a flat script with
`mu = 1.0` and a velocity per weight.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

OPTIMIZER = '''\
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(p) for k, p in params.items()}
        for k in params:
            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]
            params[k] += self.v[k]


def loss_and_grads(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    diff = out - y
    loss = np.mean(diff ** 2)
    dout = 2 * diff / diff.size
    dh = (dout @ params["W2"].T) * (1 - h ** 2)
    grads = {"W2": h.T @ dout, "b2": dout.sum(axis=0), "W1": X.T @ dh, "b1": dh.sum(axis=0)}
    return loss, grads


rng = np.random.RandomState(4)
X = rng.uniform(-2, 2, (200, 2))
y = np.sin(X[:, :1]) + 0.5 * X[:, 1:]
params = {"W1": rng.randn(2, 20) * 0.7, "b1": np.zeros(20), "W2": rng.randn(20, 1) * 0.2, "b2": np.zeros(1)}
optimizer = Momentum(lr=0.1, momentum=0.9)
for it in range(300):
    loss, grads = loss_and_grads(params, X, y)
    optimizer.update(params, grads)
    if it % 50 == 0:
        print(it, loss)
'''

FLAT = '''\
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(150, 3))
y = X @ np.array([[0.5], [-1.0], [2.0]]) + 0.1
W = rng.normal(size=(3, 1)) * 0.1
b = np.zeros((1, 1))
lr, mu = 0.05, 0.9
vW, vb = np.zeros_like(W), np.zeros_like(b)
for epoch in range(200):
    pred = X @ W + b
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(X)
    dW = X.T @ dpred
    db = dpred.sum(axis=0, keepdims=True)
    vW = mu * vW - lr * dW
    vb = mu * vb - lr * db
    W += vW
    b += vb
    if epoch % 40 == 0:
        print(epoch, loss)
'''


@pytest.mark.parametrize(
    "text, correct, wrong, name",
    [
        (OPTIMIZER, "optimizer = Momentum(lr=0.1, momentum=0.9)", "optimizer = Momentum(lr=0.1, momentum=1.0)", "optimizer.momentum"),
        (FLAT, "lr, mu = 0.05, 0.9", "lr, mu = 0.05, 1.0", "mu"),
    ],
    ids=["optimizer-class", "flat-script"],
)
def test_a_momentum_of_one_is_named_at_the_line_that_sets_it(tmp_path, text, correct, wrong, name):
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    (finding,) = errors(report)
    assert (finding["code"], finding["pattern"], finding["param"]) == ("BPD608", "momentum-not-below-one", name)
    assert finding["line"] == line_of(path, wrong)
    assert "a momentum of 1 or more never lets the velocity decay" in finding["message"]
    assert report["findings"][report["root_cause"]]["pattern"] == "momentum-not-below-one"


@pytest.mark.parametrize("text", [OPTIMIZER, FLAT], ids=["optimizer-class", "flat-script"])
def test_the_same_programs_at_momentum_0_9_are_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "0.9", "0.9")
    assert errors(check(path, training=True)) == []
