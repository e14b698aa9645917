"""An optimizer object constructed anew in the body of the training loop, whose constructor makes its running state
zeros and whose step decays that state, carries nothing from one step to the next (`checks/velocity_reset.py`,
`static/velocity_reset.optimizer_resets`, pattern `optimizer-reset`): named at the construction. The same programs
with the optimizer made once before the loop are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

# an Adam class over a list of parameters, its moments lists walked with zip in the step
ADAM = '''\
import numpy as np


class AdamOpt:
    def __init__(self, shapes, lr=0.01, b1=0.9, b2=0.999):
        self.lr, self.b1, self.b2 = lr, b1, b2
        self.m = [np.zeros(s) for s in shapes]
        self.s = [np.zeros(s) for s in shapes]

    def apply(self, params, grads, t):
        for p, g, m, s in zip(params, grads, self.m, self.s):
            m[...] = self.b1 * m + (1 - self.b1) * g
            s[...] = self.b2 * s + (1 - self.b2) * g * g
            p -= self.lr * (m / (1 - self.b1 ** t)) / (np.sqrt(s / (1 - self.b2 ** t)) + 1e-8)


def loss_grads(params, X, y):
    W, c = params
    r = X @ W + c - y
    return np.mean(r ** 2), [2 * X.T @ r / len(X), 2 * r.mean(axis=0)]


rng = np.random.default_rng(1)
X = rng.normal(size=(40, 3))
y = X @ np.array([[1.0], [-1.0], [0.5]])
params = [np.zeros((3, 1)), np.zeros(1)]
{outside}
for it in range(60):
    {inside}
    loss, grads = loss_grads(params, X, y)
    optimizer.apply(params, grads, it + 1)
print(loss)
'''

# a momentum class over a dict of weights, its velocity a dict decayed by key, in a function
MOMENTUM = '''\
import numpy as np


class HeavyBall:
    def __init__(self, net, rate=0.05, mu=0.9):
        self.rate, self.mu = rate, mu
        self.vel = {{k: np.zeros_like(w) for k, w in net.items()}}

    def step(self, net, grads):
        for k in net:
            self.vel[k] = self.mu * self.vel[k] + grads[k]
            net[k] -= self.rate * self.vel[k]


def train(net, X, t, epochs=80):
    {outside}
    for epoch in range(epochs):
        {inside}
        p = 1 / (1 + np.exp(-(X @ net["W"] + net["b"])))
        grads = {{"W": X.T @ (p - t) / len(X), "b": (p - t).mean(axis=0)}}
        hb.step(net, grads)
    return net


rng = np.random.default_rng(2)
X = rng.normal(size=(30, 2))
t = (X[:, :1] > X[:, 1:]).astype(float)
net = train({{"W": np.zeros((2, 1)), "b": np.zeros(1)}}, X, t)
print(net["W"].ravel())
'''

ADAM_MADE = "optimizer = AdamOpt([p.shape for p in params])"
MOMENTUM_MADE = "hb = HeavyBall(net)"


def _program(template: str, made: str, inside: bool) -> str:
    return template.format(outside="" if inside else made, inside=made if inside else "pass")


def _named(report: dict) -> list[dict]:
    return [f for f in errors(report) if f["code"] == "BPD640"]


def test_adam_made_at_every_pass_is_named_there(tmp_path):
    path = write(tmp_path, "adam.py", _program(ADAM, ADAM_MADE, inside=True))
    found = _named(check(path))
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, ADAM_MADE)
    assert "`optimizer`" in found[0]["message"] and "before the loop" in found[0]["message"]


def test_adam_made_once_is_clean(tmp_path):
    report = check(write(tmp_path, "adam.py", _program(ADAM, ADAM_MADE, inside=False)))
    assert _named(report) == []


def test_momentum_object_made_at_every_epoch_is_named_there(tmp_path):
    path = write(tmp_path, "momentum.py", _program(MOMENTUM, MOMENTUM_MADE, inside=True))
    found = _named(check(path))
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, MOMENTUM_MADE)
    assert "`hb`" in found[0]["message"]


def test_momentum_object_made_once_is_clean(tmp_path):
    report = check(write(tmp_path, "momentum.py", _program(MOMENTUM, MOMENTUM_MADE, inside=False)))
    assert errors(report) == []


def test_an_optimizer_made_for_each_run_of_a_search_is_not_named(tmp_path):
    # one fresh optimizer per setting tried, stepped by the inner loop: right
    program = _program(ADAM, ADAM_MADE, inside=False).replace(
        "for it in range(60):\n    pass\n    loss, grads = loss_grads(params, X, y)\n    optimizer.apply(params, grads, it + 1)",
        "for lr in (0.01, 0.02):\n    optimizer = AdamOpt([p.shape for p in params], lr=lr)\n    for it in range(30):\n"
        "        loss, grads = loss_grads(params, X, y)\n        optimizer.apply(params, grads, it + 1)",
    )
    assert "for lr in" in program
    report = check(write(tmp_path, "search.py", program))
    assert [f for f in report["findings"] if f["code"] == "BPD640"] == []
