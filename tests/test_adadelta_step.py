"""AdaDelta's step has no learning rate: `dx = -np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g`, then
`params[key] += dx`. The step is a name computed with square roots just before, and named like a
gradient (`dx`): the gradient compared is the `g` behind it, with the sign the definition gives it.
The correct optimizer was a step-gradient-mismatch false alarm ("uses `dx` ... not the gradients").

Two styles: an optimizer class with `update(params, grads)`, and a flat loop over two weight arrays.
The ratio written upside down is not clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, planted

CLASS = '''\
import numpy as np


class AdaDelta:
    def __init__(self, rho=0.9, eps=1e-6):
        self.rho, self.eps = rho, eps
        self.Eg2, self.Edx2 = {}, {}

    def update(self, params, grads):
        for key in params:
            if key not in self.Eg2:
                self.Eg2[key] = np.zeros_like(params[key])
                self.Edx2[key] = np.zeros_like(params[key])
            g = grads[key]
            self.Eg2[key] = self.rho * self.Eg2[key] + (1 - self.rho) * g * g
            dx = -np.sqrt(self.Edx2[key] + self.eps) / np.sqrt(self.Eg2[key] + self.eps) * g
            self.Edx2[key] = self.rho * self.Edx2[key] + (1 - self.rho) * dx * dx
            params[key] += dx


def loss_and_grads(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"]
    err = out - y
    dout = 2 * err / len(y)
    dh = (dout @ params["W2"].T) * (1 - h ** 2)
    return np.mean(err ** 2), {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dout}


rng = np.random.RandomState(4)
X = rng.uniform(-1, 1, (100, 2))
y = (X[:, :1] * X[:, 1:]) + 0.2 * X[:, :1]
params = {"W1": rng.randn(2, 10) * 0.5, "b1": np.zeros(10), "W2": rng.randn(10, 1) * 0.3}
opt = AdaDelta()
for it in range(300):
    loss, grads = loss_and_grads(params, X, y)
    opt.update(params, grads)
    if it % 60 == 0:
        print(it, loss)
'''

FLAT = '''\
import numpy as np

rng = np.random.default_rng(7)
X = rng.normal(size=(120, 3))
y = X @ np.array([[0.4], [-0.8], [0.3]])
W = np.zeros((3, 1))
b = np.zeros((1, 1))
rho, eps = 0.95, 1e-6
sq_gW, sq_dW = np.zeros_like(W), np.zeros_like(W)
sq_gb, sq_db = np.zeros_like(b), np.zeros_like(b)
for epoch in range(300):
    pred = X @ W + b
    loss = np.mean((pred - y) ** 2)
    gW = 2 * X.T @ (pred - y) / len(X)
    gb = 2 * np.sum(pred - y, axis=0, keepdims=True) / len(X)
    sq_gW = rho * sq_gW + (1 - rho) * gW ** 2
    delta_W = -np.sqrt(sq_dW + eps) / np.sqrt(sq_gW + eps) * gW
    sq_dW = rho * sq_dW + (1 - rho) * delta_W ** 2
    W += delta_W
    sq_gb = rho * sq_gb + (1 - rho) * gb ** 2
    delta_b = -np.sqrt(sq_db + eps) / np.sqrt(sq_gb + eps) * gb
    sq_db = rho * sq_db + (1 - rho) * delta_b ** 2
    b += delta_b
    if epoch % 60 == 0:
        print(epoch, loss)
'''


@pytest.mark.parametrize("text", [CLASS, FLAT], ids=["optimizer-class", "flat-loop"])
def test_a_correct_adadelta_is_clean(tmp_path, text):
    path = planted(tmp_path, "ada.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert errors(report) == []
    assert report["extras"]["replay"][0]["not_replayed"] is None


@pytest.mark.parametrize(
    "text, correct, wrong",
    [
        (CLASS, "dx = -np.sqrt(self.Edx2[key] + self.eps) / np.sqrt(self.Eg2[key] + self.eps) * g",
         "dx = -np.sqrt(self.Eg2[key] + self.eps) / np.sqrt(self.Edx2[key] + self.eps) * g"),
        (FLAT, "delta_W = -np.sqrt(sq_dW + eps) / np.sqrt(sq_gW + eps) * gW", "delta_W = np.sqrt(sq_dW + eps) / np.sqrt(sq_gW + eps) * gW"),
    ],
    ids=["optimizer-class", "flat-loop"],
)
def test_a_wrong_adadelta_step_is_not_clean(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "ada.py", text, correct, wrong)
    assert errors(check(path, training=True))
