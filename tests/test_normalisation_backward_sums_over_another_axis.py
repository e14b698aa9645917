"""A hand-written normalisation whose forward pass reduces over one axis (`x.mean(axis=2)`) and whose
backward reduces over another in a statement its wrong input gradient reads (`total =
dy.sum(axis=1, keepdims=True)`): the walk finds `dx` wrong, and the line named is the statement
that sums over the other axis, with the forward's axis as the fix."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np


class TokenNorm:
    """Standardises each token's features: x (n, T, d), statistics over the last axis (2)."""

    def forward(self, x):
        centred = x - x.mean(axis=2, keepdims=True)
        self.rstd = 1.0 / np.sqrt((centred ** 2).mean(axis=2, keepdims=True) + 1e-5)
        self.y = centred * self.rstd
        return self.y

    def backward(self, dy):
        k = dy.shape[2]
        total = dy.sum(axis=2, keepdims=True)
        along = (dy * self.y).sum(axis=2, keepdims=True)
        dx = self.rstd * (dy - total / k - self.y * along / k)
        return dx


rng = np.random.default_rng(21)
X = rng.normal(size=(40, 5, 4))
target = np.cos(X.sum(axis=(1, 2)))[:, None]
P = rng.normal(0, 0.5, (4, 6))
Q = rng.normal(0, 0.5, (6, 1))
norm = TokenNorm()
lr = 0.05
for epoch in range(150):
    u = X @ P
    v = norm.forward(u)
    pooled = v.mean(axis=1)
    pred = pooled @ Q
    loss = np.mean((pred - target) ** 2)
    dpred = 2 * (pred - target) / len(X)
    dQ = pooled.T @ dpred
    dpooled = dpred @ Q.T
    dv = np.repeat(dpooled[:, None, :], 5, axis=1) / 5
    du = norm.backward(dv)
    dP = np.einsum("ntd,nte->de", X, du)
    P -= lr * dP
    Q -= lr * dQ
    if epoch % 30 == 0:
        print(epoch, loss)
'''

IN_A_FUNCTION = '''\
import numpy as np


class GroupCentre:
    """Subtracts each group's mean: x (n, c) seen as (n, groups, c // groups)."""

    def __init__(self, groups):
        self.groups = groups

    def forward(self, x):
        self.shape = x.shape
        xg = x.reshape(x.shape[0], self.groups, -1)
        return (xg - xg.mean(axis=2, keepdims=True)).reshape(x.shape)

    def backward(self, dout):
        dg = dout.reshape(dout.shape[0], self.groups, -1)
        shared = dg.mean(axis=2, keepdims=True)
        dx = dg - shared
        return dx.reshape(self.shape)


def train(X, t, steps=150, lr=0.05):
    rng = np.random.default_rng(1)
    A = rng.normal(0, 0.4, (X.shape[1], 12))
    B = rng.normal(0, 0.4, (12, 1))
    centre = GroupCentre(3)
    for i in range(steps):
        u = X @ A
        c = centre.forward(u)
        q = np.tanh(c)
        out = q @ B
        loss = 0.5 * np.mean((out - t) ** 2)
        dout = (out - t) / len(X)
        dB = q.T @ dout
        dq = dout @ B.T
        dc = dq * (1 - q ** 2)
        du = centre.backward(dc)
        dA = X.T @ du
        A -= lr * dA
        B -= lr * dB
        if i % 30 == 0:
            print(i, loss)


rng = np.random.default_rng(3)
X = rng.normal(size=(60, 5))
t = np.sin(X[:, :1]) + X[:, 1:2]
train(X, t)
'''

TOTAL = "        total = dy.sum(axis=2, keepdims=True)\n"
SHARED = "        shared = dg.mean(axis=2, keepdims=True)\n"


def test_the_sum_over_the_other_axis_is_named_not_the_input_gradient(tmp_path):
    path = planted(tmp_path, "tokens.py", SCRIPT, TOTAL, TOTAL.replace("axis=2", "axis=1"))
    report = check(path)
    first = report["findings"][report["root_cause"]]
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "total = dy.sum(axis=1")
    assert first["pattern"] == "summed-over-wrong-axis"
    assert "axis 2" in first["message"] and "`dx`" in first["message"]


def test_the_correct_normalisation_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "tokens.py", SCRIPT, TOTAL, TOTAL))) == []


def test_a_mean_over_the_other_axis_in_a_reshaping_layer_is_named(tmp_path):
    path = planted(tmp_path, "centre.py", IN_A_FUNCTION, SHARED, SHARED.replace("axis=2", "axis=1"))
    report = check(path)
    first = report["findings"][report["root_cause"]]
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "shared = dg.mean(axis=1")
    assert "reduce over axis 2" in first["message"]


def test_the_correct_reshaping_layer_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "centre.py", IN_A_FUNCTION, SHARED, SHARED))) == []
