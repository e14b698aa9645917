"""Two parameters' gradients computed from one adjoint whose sign is flipped (`e2 = dout * v * (g2 ** 2 - 1)`,
tanh's derivative written the other way round), where the forward pass keeps no pre-activation the replay could
measure that adjoint against (`g2 = act(r * t + s)`). Every gradient computed from it is the loss's with its sign
flipped and no right one is: the root is the adjoint's statement, not the first of the gradients. Where a right
gradient is computed from the shared adjoint too, the flipped gradients stay named at their own lines."""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

# two tanh units, every weight one float, a plain loop
SCALAR = '''\
import numpy as np

gen = np.random.default_rng(3)
t = np.linspace(-1.5, 1.5, 60)
target = 0.7 * np.tanh(2.0 * t + 0.3) - 0.4 * np.tanh(-1.5 * t + 0.8) + 0.05


def act(z):
    return np.tanh(z)


p, q, r, s = (float(v) for v in gen.normal(0, 0.8, 4))
u, v, w = 0.3, 0.3, 0.0
rate = 0.2
count = len(t)
for epoch in range(3000):
    g1 = act(p * t + q)
    g2 = act(r * t + s)
    out = u * g1 + v * g2 + w
    resid = out - target
    cost = np.mean(resid ** 2)

    dout = 2.0 * resid / count
    du = np.sum(dout * g1)
    dv = np.sum(dout * g2)
    dw = np.sum(dout)
    e1 = dout * u * (1 - g1 ** 2)
    e2 = dout * v * (1 - g2 ** 2)
    dp = np.sum(e1 * t)
    dq = np.sum(e1)
    dr = np.sum(e2 * t)
    ds = np.sum(e2)

    p -= rate * dp
    q -= rate * dq
    r -= rate * dr
    s -= rate * ds
    u -= rate * du
    v -= rate * dv
    w -= rate * dw

print(cost)
'''

# a vector network of two branches side by side, a sigmoid of the user's own around an inline pre-activation
VECTOR = '''\
import numpy as np

rng = np.random.default_rng(21)
X = rng.normal(size=(64, 3))
Y = (np.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3])


def squash(z):
    return 1.0 / (1.0 + np.exp(-z))


A = rng.normal(0, 0.4, (3, 8))
a0 = np.zeros(8)
B = rng.normal(0, 0.4, (3, 8))
b0 = np.zeros(8)
u = rng.normal(0, 0.4, (8, 1))
v = rng.normal(0, 0.4, (8, 1))
lr = 0.1
for it in range(500):
    T = np.tanh(X @ A + a0)
    S = squash(X @ B + b0)
    out = T @ u + S @ v
    err = out - Y
    loss = 0.5 * np.mean(err ** 2)

    back = err / len(X)
    du = T.T @ back
    dv = S.T @ back
    gt = (back @ u.T) * (1 - T ** 2)
    gs = (back @ v.T) * S * (1 - S)
    dA = X.T @ gt
    da0 = gt.sum(axis=0)
    dB = X.T @ gs
    db0 = gs.sum(axis=0)

    A -= lr * dA
    a0 -= lr * da0
    B -= lr * dB
    b0 -= lr * db0
    u -= lr * du
    v -= lr * dv
print(loss)
'''

# a chain of two tanh units: the second unit's adjoint `e2` feeds the first unit's gradients as well
CHAIN = '''\
import numpy as np

gen = np.random.default_rng(8)
x = np.linspace(-2.0, 2.0, 50)
y = np.tanh(1.5 * np.tanh(0.8 * x - 0.2) + 0.3)

p, q, r, s = (float(k) for k in gen.normal(0, 0.7, 4))
v, w = 0.5, 0.0
rate = 0.1
n = len(x)
for step in range(2000):
    h1 = np.tanh(p * x + q)
    h2 = np.tanh(r * h1 + s)
    out = v * h2 + w
    diff = out - y
    cost = np.mean(diff ** 2)

    dout = 2.0 * diff / n
    dv = np.sum(dout * h2)
    dw = np.sum(dout)
    e2 = dout * v * (1 - h2 ** 2)
    dr = np.sum(e2 * h1)
    ds = np.sum(e2)
    e1 = e2 * r * (1 - h1 ** 2)
    dp = np.sum(e1 * x)
    dq = np.sum(e1)

    p -= rate * dp
    q -= rate * dq
    r -= rate * dr
    s -= rate * ds
    v -= rate * dv
    w -= rate * dw
print(cost)
'''

CASES = {
    "scalar": (SCALAR, "e2 = dout * v * (1 - g2 ** 2)", "e2 = dout * v * (g2 ** 2 - 1)", "e2", ("`r`", "`s`")),
    "vector": (VECTOR, "gs = (back @ v.T) * S * (1 - S)", "gs = (back @ v.T) * S * (S - 1)", "gs", ("`B`", "`b0`")),
}


@pytest.mark.parametrize("program", [SCALAR, VECTOR, CHAIN], ids=["scalar", "vector", "chain"])
def test_the_right_programs_are_clean(tmp_path, program):
    report = check(write(tmp_path, "fit.py", program))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []


@pytest.mark.parametrize("style", sorted(CASES))
def test_a_flipped_adjoint_only_wrong_gradients_share_is_the_root(tmp_path, style):
    program, right, wrong, name, parameters = CASES[style]
    path = planted(tmp_path, "fit.py", program, right, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["pattern"]) == ("BPD108", line_of(path, wrong), "sign-flipped")
    assert all(p in root["message"] for p in parameters)
    assert f"no right gradient is computed from `{name}`, so `{name}` is what has its sign flipped" in root["message"]
    # one finding for the one statement, not one per gradient computed from it
    assert [f["line"] for f in report["findings"] if f["code"] == "BPD108"] == [line_of(path, wrong)]


def test_gradients_flipped_at_their_own_lines_stay_there_when_a_right_one_shares_the_adjoint(tmp_path):
    path = planted(tmp_path, "fit.py", CHAIN, "    dr = np.sum(e2 * h1)\n    ds = np.sum(e2)\n", "    dr = -np.sum(e2 * h1)\n    ds = -np.sum(e2)\n")
    report = check(path)
    flipped = sorted(f["line"] for f in report["findings"] if f["code"] == "BPD108")
    assert flipped == [line_of(path, "dr = -np.sum"), line_of(path, "ds = -np.sum")]
    assert report["findings"][report["root_cause"]]["line"] == line_of(path, "dr = -np.sum")
