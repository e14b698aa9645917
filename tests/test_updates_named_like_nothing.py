"""Training steps whose update statement names nothing a parameter or a step is usually called.

Three shapes of ordinary code were "nothing to check" although they train a network:
an update over a zip of a list literal of a model's attributes (`for p, g in zip([net.A, net.a], grads):
p -= lr * g`), or over containers no name marks (`for p, g in zip(model.offsets, gb): p -= step * g`),
read by what the loop does, not by its names; and an Adam step kept in a variable of its own
(`upd = lr * m / (np.sqrt(v) + eps)`, then `w -= upd`). Each is now replayed: a wrong gradient is named,
the correct program is clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from userfiles import check, errors, planted, replayed, step_verdicts

ATTRIBUTES_IN_A_LIST = """
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 3))
y = (X @ np.array([[1.0], [-2.0], [0.5]]) > 0).astype(float)


class Net:
    def __init__(self):
        self.A = rng.normal(size=(3, 8)) * 0.5
        self.a = np.zeros(8)
        self.B = rng.normal(size=(8, 1)) * 0.5
        self.c = np.zeros(1)

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.A + self.a)
        z = self.h @ self.B + self.c
        self.p = 1.0 / (1.0 + np.exp(-z))
        return self.p

    def backward(self, t):
        n = t.shape[0]
        dz = (self.p - t) / n
        dB = self.h.T @ dz
        dc = dz.sum(axis=0)
        dh = dz @ self.B.T
        dpre = dh * (1.0 - self.h ** 2)
        dA = self.x.T @ dpre
        da = dpre.sum(axis=0)
        return [dA, da, dB, dc]


def loss(p, t):
    return -np.mean(t * np.log(p + 1e-9) + (1 - t) * np.log(1 - p + 1e-9))


net = Net()
lr = 0.5
for epoch in range(200):
    p = net.forward(X)
    L = loss(p, y)
    grads = net.backward(y)
    for p_, g in zip([net.A, net.a, net.B, net.c], grads):
        p_ -= lr * g
    if epoch % 50 == 0:
        print(epoch, L)
"""

NAMES_IN_A_LIST = """
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(50, 2))
T = np.stack([X[:, 0] * X[:, 1], X[:, 0] - X[:, 1]], axis=1)

P1 = rng.normal(size=(2, 12)) * 0.4
q1 = np.zeros(12)
P2 = rng.normal(size=(12, 2)) * 0.4
q2 = np.zeros(2)


def forward(x):
    h = np.maximum(0.0, x @ P1 + q1)
    return h, h @ P2 + q2


def backward(x, h, out, t):
    e = 2.0 * (out - t) / out.size
    gP2 = h.T @ e
    gq2 = e.sum(axis=0)
    eh = (e @ P2.T) * (h > 0)
    gP1 = x.T @ eh
    gq1 = eh.sum(axis=0)
    return gP1, gq1, gP2, gq2


rate = 0.1
for epoch in range(100):
    h, out = forward(X)
    err = np.mean((out - T) ** 2)
    for p, g in zip([P1, q1, P2, q2], backward(X, h, out, T)):
        p -= rate * g
    if epoch % 25 == 0:
        print(epoch, err)
"""

UNNAMED_CONTAINERS = """
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(80, 4))
Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]


class Model:
    def __init__(self, sizes):
        self.mats = [rng.normal(size=(m, n)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.offsets = [np.zeros(n) for n in sizes[1:]]

    def run(self, x):
        self.acts = [x]
        for i, (M, o) in enumerate(zip(self.mats, self.offsets)):
            x = x @ M + o
            if i < len(self.mats) - 1:
                x = np.tanh(x)
            self.acts.append(x)
        return x

    def back(self, delta):
        gw, gb = [], []
        for i in reversed(range(len(self.mats))):
            gw.insert(0, self.acts[i].T @ delta)
            gb.insert(0, delta.sum(axis=0))
            if i > 0:
                delta = (delta @ self.mats[i].T) * (1.0 - self.acts[i] ** 2)
        return gw, gb


model = Model([4, 16, 1])
step = 0.05
for it in range(300):
    out = model.run(X)
    mse = np.mean((out - Y) ** 2)
    gw, gb = model.back(2.0 * (out - Y) / len(X))
    for p, g in zip(model.mats, gw):
        p -= step * g
    for p, g in zip(model.offsets, gb):
        p -= step * g
    if it % 100 == 0:
        print(it, mse)
"""

UNNAMED_CONTAINERS_NEGATED_RATE = """
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(60, 3))
Y = np.tanh(X @ np.array([[0.5], [-1.0], [2.0]]))

mats = [rng.normal(size=(3, 10)) * 0.3, rng.normal(size=(10, 1)) * 0.3]
shifts = [np.zeros(10), np.zeros(1)]


def pass_through(x):
    a = np.tanh(x @ mats[0] + shifts[0])
    return a, a @ mats[1] + shifts[1]


step = 0.2
for it in range(150):
    a, out = pass_through(X)
    loss = 0.5 * np.mean((out - Y) ** 2)
    r = (out - Y) / len(X)
    ra = (r @ mats[1].T) * (1.0 - a ** 2)
    d = [X.T @ ra, a.T @ r]
    e = [ra.sum(axis=0), r.sum(axis=0)]
    for cur, dc in zip(mats, d):
        cur += -step * dc
    for cur, dc in zip(shifts, e):
        cur += -step * dc
    if it % 50 == 0:
        print(it, loss)
"""

ADAM_STEP_IN_A_VARIABLE = """
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(100, 3))
t = (X[:, 0] - X[:, 2] > 0).astype(float).reshape(-1, 1)

w = rng.normal(size=(3, 1)) * 0.1
b = np.zeros((1, 1))
m_w, v_w = np.zeros_like(w), np.zeros_like(w)
m_b, v_b = np.zeros_like(b), np.zeros_like(b)
lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8

for k in range(1, 201):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    cost = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    dz = (p - t) / len(X)
    dw = X.T @ dz
    db = dz.sum(axis=0, keepdims=True)
    m_w = beta1 * m_w + (1 - beta1) * dw
    v_w = beta2 * v_w + (1 - beta2) * dw ** 2
    m_b = beta1 * m_b + (1 - beta1) * db
    v_b = beta2 * v_b + (1 - beta2) * db ** 2
    mh_w = m_w / (1 - beta1 ** k)
    vh_w = v_w / (1 - beta2 ** k)
    mh_b = m_b / (1 - beta1 ** k)
    vh_b = v_b / (1 - beta2 ** k)
    upd = lr * mh_w / (np.sqrt(vh_w) + eps)
    w -= upd
    upd_b = lr * mh_b / (np.sqrt(vh_b) + eps)
    b -= upd_b
    if k % 50 == 0:
        print(k, cost)
"""

ADAM_STEP_OVER_A_DICT = """
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(90, 4))
y = X @ np.array([1.0, -0.5, 0.25, 2.0]) + 0.3

net = {"W": rng.normal(size=(4, 6)) * 0.3, "c": np.zeros(6), "V": rng.normal(size=6) * 0.3}
mom = {k: np.zeros_like(a) for k, a in net.items()}
sq = {k: np.zeros_like(a) for k, a in net.items()}
lr, r1, r2, tiny = 0.01, 0.9, 0.999, 1e-8
n = 0
for epoch in range(120):
    h = np.tanh(X @ net["W"] + net["c"])
    pred = h @ net["V"]
    mse = np.mean((pred - y) ** 2)
    e = 2.0 * (pred - y) / len(y)
    eh = np.outer(e, net["V"]) * (1.0 - h ** 2)
    g = {"W": X.T @ eh, "c": eh.sum(axis=0), "V": h.T @ e}
    n += 1
    for k in net:
        mom[k] = r1 * mom[k] + (1 - r1) * g[k]
        sq[k] = r2 * sq[k] + (1 - r2) * g[k] ** 2
        move = lr * (mom[k] / (1 - r1 ** n)) / (np.sqrt(sq[k] / (1 - r2 ** n)) + tiny)
        net[k] -= move
    if epoch % 40 == 0:
        print(epoch, mse)
"""


# (program, the correct statement, its buggy twin, the parameters whose gradient the bug changes)
CASES = {
    "attributes in a list": (ATTRIBUTES_IN_A_LIST, "dpre = dh * (1.0 - self.h ** 2)", "dpre = dh * (1.0 - self.h)", {"net.A", "net.a"}),
    "names in a list": (NAMES_IN_A_LIST, "eh = (e @ P2.T) * (h > 0)", "eh = e @ P2.T", {"P1", "q1"}),
    "unnamed containers": (UNNAMED_CONTAINERS, "(1.0 - self.acts[i] ** 2)", "(1.0 - self.acts[i])", {"model.mats[0]", "model.offsets[0]"}),
    "negated rate": (UNNAMED_CONTAINERS_NEGATED_RATE, "* (1.0 - a ** 2)", "* (1.0 - a)", {"mats[0]", "shifts[0]"}),
    "adam step in a variable": (ADAM_STEP_IN_A_VARIABLE, "dz = (p - t) / len(X)", "dz = (p - t) * p * (1 - p) / len(X)", {"w", "b"}),
    "adam step over a dict": (ADAM_STEP_OVER_A_DICT, "* (1.0 - h ** 2)", "* (1.0 - h)", {"net['W']", "net['c']"}),
}


@pytest.mark.parametrize("case", CASES)
def test_the_correct_program_is_replayed_and_clean(tmp_path: Path, case: str) -> None:
    program, correct, _, _ = CASES[case]
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    replayed(report)
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert verdicts and set(verdicts.values()) == {"ok"}, verdicts


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_gradient_is_named(tmp_path: Path, case: str) -> None:
    program, correct, wrong, broken = CASES[case]
    report = check(planted(tmp_path, "train.py", program, correct, wrong))
    replayed(report)
    assert errors(report), report["findings"]
    verdicts = step_verdicts(report)
    assert {p for p, v in verdicts.items() if v != "ok"} == broken, verdicts
    named = " ".join(e["message"] for e in errors(report))
    assert all(f"`{p}`" in named for p in broken), named
