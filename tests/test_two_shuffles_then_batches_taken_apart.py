"""Inputs and targets each shuffled by an order drawn for it alone (`rng.shuffle(X)` then
`rng.shuffle(Y)`, or `X = X[np.random.permutation(n)]` beside `t = t[np.random.permutation(n)]`) at the
top of every epoch, then each batch taken from both by two statements (`xb = X[i:i + bs]`, then
`yb = Y[i:i + bs]`): every input is trained on another's target. Named at the second shuffle, with one
permutation to draw; one order for both is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

# style 1: a Generator's in-place shuffles, a step function handed both batches
IN_PLACE = """\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(160, 2))
Y = (X[:, :1] ** 2 + X[:, 1:] ** 2 < 1.0).astype(float)
W = rng.normal(0, 0.5, (2, 12))
c = np.zeros(12)
v = rng.normal(0, 0.5, (12, 1))
e = np.zeros(1)


def train_step(xb, yb, lr=0.5):
    global W, c, v, e
    h = np.tanh(xb @ W + c)
    p = 1 / (1 + np.exp(-(h @ v + e)))
    loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
    g = (p - yb) / len(xb)
    dh = (g @ v.T) * (1 - h ** 2)
    v -= lr * h.T @ g
    e -= lr * g.sum(axis=0)
    W -= lr * xb.T @ dh
    c -= lr * dh.sum(axis=0)
    return loss


bs = 16
for epoch in range(30):
    order = rng.permutation(len(X))
    X, Y = X[order], Y[order]
    total = 0.0
    for i in range(0, len(X), bs):
        xb = X[i:i + bs]
        yb = Y[i:i + bs]
        total += train_step(xb, yb)
    if epoch % 10 == 0:
        print(epoch, total)
"""

# style 2: permutations drawn inline for each array, a model object, targets named `t`
INLINE = """\
import numpy as np


class Logistic:
    def __init__(self, n_in):
        self.w = np.zeros((n_in, 1))
        self.b = 0.0

    def fit_batch(self, xs, ts, lr=0.3):
        p = 1 / (1 + np.exp(-(xs @ self.w + self.b)))
        loss = -np.mean(ts * np.log(p + 1e-9) + (1 - ts) * np.log(1 - p + 1e-9))
        d = (p - ts) / len(xs)
        self.w -= lr * xs.T @ d
        self.b -= lr * float(d.sum())
        return loss


np.random.seed(12)
n = 240
X_tr = np.random.randn(n, 4)
t_tr = (X_tr @ np.array([[1.0], [-2.0], [0.5], [0.0]]) > 0).astype(float)
model = Logistic(4)
for epoch in range(25):
    perm = np.random.permutation(n)
    X_tr, t_tr = X_tr[perm], t_tr[perm]
    for k in range(0, n, 30):
        xb = X_tr[k:k + 30]
        tb = t_tr[k:k + 30]
        loss = model.fit_batch(xb, tb)
    print(epoch, loss)
"""

CASES = (
    ("in_place.py", IN_PLACE, "    order = rng.permutation(len(X))\n    X, Y = X[order], Y[order]\n", "    rng.shuffle(X)\n    rng.shuffle(Y)\n", "rng.shuffle(Y)"),
    ("inline.py", INLINE, "    perm = np.random.permutation(n)\n    X_tr, t_tr = X_tr[perm], t_tr[perm]\n",
     "    X_tr = X_tr[np.random.permutation(n)]\n    t_tr = t_tr[np.random.permutation(n)]\n", "t_tr = t_tr[np.random.permutation(n)]"),
)


def test_one_order_for_inputs_and_targets_is_clean(tmp_path):
    for name, text, _, _, _ in CASES:
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""), training=True)
        assert errors(report) == [], (name, errors(report))


def test_two_orders_then_two_batch_statements_are_named_at_the_second_shuffle(tmp_path):
    for name, text, right, wrong, at in CASES:
        path = planted(tmp_path / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path, training=True)
        found = [f for f in report["findings"] if f["name"] == "targets-not-shuffled"]
        assert found and found[0]["line"] == line_of(path, at) and "one permutation" in found[0]["message"], (name, report["findings"])
        assert report["root_cause"] is not None and report["findings"][report["root_cause"]]["line"] == line_of(path, at), (name, errors(report))
