"""A training step whose output error comes from a loss's derivative function (`e = logcosh_grad(err) / n`,
`slope = cauchy_prime(resid)`) on a line of its own, before the adjoint the replay measures wrong
(`da = (e @ self.v.T) * ...`, `d_out = slope / n`): when the derivative's own check finds it wrong, that
finding is the root cause, named at the derivative's line; the step's wrong adjoint only shows where the
error enters it. The right programs are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

# style 1: a class model, a log-cosh loss and its derivative, updates by setattr over the gradient dict
LOGCOSH = """\
import numpy as np


def logcosh(r):
    return np.log(np.cosh(r))


def logcosh_grad(r):
    return np.tanh(r)


class Net:
    def __init__(self, n_in, n_hidden, seed=2):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, 0.6, (n_in, n_hidden))
        self.b = np.zeros(n_hidden)
        self.v = rng.normal(0, 0.6, (n_hidden, 1))
        self.c = np.zeros(1)

    def forward(self, X):
        self.a = np.tanh(X @ self.W + self.b)
        return self.a @ self.v + self.c

    def loss(self, X, y):
        return logcosh(self.forward(X) - y).mean()

    def grads(self, X, y):
        err = self.forward(X) - y
        e = logcosh_grad(err) / X.shape[0]
        da = (e @ self.v.T) * (1 - self.a ** 2)
        return {"W": X.T @ da, "b": da.sum(axis=0), "v": self.a.T @ e, "c": e.sum(axis=0)}


rng = np.random.default_rng(8)
X = rng.uniform(-2, 2, (50, 3))
y = X[:, :1] ** 2 - X[:, 1:2] + rng.normal(0, 0.3, (50, 1))
y[::9] += 6.0
net = Net(3, 10)
for it in range(200):
    grads = net.grads(X, y)
    for k, d in grads.items():
        setattr(net, k, getattr(net, k) - 0.1 * d)
    if it % 50 == 0:
        print(it, net.loss(X, y))
"""

# style 2: module-level arrays, a Cauchy loss and its derivative, the derivative's value scaled on a later line
CAUCHY = """\
import numpy as np

SCALE = 0.8


def cauchy(r, c=SCALE):
    return 0.5 * c ** 2 * np.log1p((r / c) ** 2)


def cauchy_prime(r, c=SCALE):
    return r / (1.0 + (r / c) ** 2)


np.random.seed(6)
n = 40
X = np.random.randn(n, 2)
t = (np.sin(X[:, 0]) + 0.5 * X[:, 1]).reshape(-1, 1)
t[np.random.rand(n, 1)[:, 0] < 0.15] -= 5.0
W1 = np.random.randn(2, 6) * 0.5
b1 = np.zeros((1, 6))
W2 = np.random.randn(6, 1) * 0.5
b2 = np.zeros((1, 1))

for epoch in range(150):
    z1 = X @ W1 + b1
    a1 = np.maximum(0.0, z1)
    out = a1 @ W2 + b2
    resid = out - t
    loss = np.mean(cauchy(resid))
    slope = cauchy_prime(resid)
    d_out = slope / n
    dW2 = a1.T @ d_out
    db2 = d_out.sum(axis=0, keepdims=True)
    d_z1 = (d_out @ W2.T) * (z1 > 0)
    dW1 = X.T @ d_z1
    db1 = d_z1.sum(axis=0, keepdims=True)
    W1 -= 0.2 * dW1
    b1 -= 0.2 * db1
    W2 -= 0.2 * dW2
    b2 -= 0.2 * db2
    if epoch % 50 == 0:
        print(epoch, loss)
"""


def test_robust_losses_with_their_derivative_functions_are_clean(tmp_path):
    for name, text in (("logcosh.py", LOGCOSH), ("cauchy.py", CAUCHY)):
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""), training=True)
        flagged = [(f["code"], f["line"]) for f in report["findings"] if f["severity"] in ("error", "warning")]
        assert flagged == [], (name, flagged)


def test_a_wrong_loss_derivative_is_the_root_cause_before_the_steps_adjoint(tmp_path):
    for name, text, right, wrong in (
        ("logcosh.py", LOGCOSH, "    return np.tanh(r)\n", "    return np.tanh(r) ** 2\n"),
        ("cauchy.py", CAUCHY, "    return r / (1.0 + (r / c) ** 2)\n", "    return r / (1.0 + (r / c)) ** 2\n"),
    ):
        path = planted(tmp_path / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path, training=True)
        assert report["root_cause"] is not None, (name, errors(report))
        root = report["findings"][report["root_cause"]]
        assert (root["name"], root["line"]) == ("gradient-mismatch", line_of(path, wrong.strip())), (name, errors(report))
        assert report["extras"].get("replay"), (name, "the training step was not replayed")
