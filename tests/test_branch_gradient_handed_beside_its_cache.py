"""One encoder run on two inputs (`sa, ca = score_forward(xa, ...)`, `sb, cb = score_forward(xb, ...)`),
each branch's backward handed its own gradient beside its cache (`score_backward(-ds, cb, w2)`). The
expression handed with a cache is the gradient of the output bound beside that cache: a branch
handed the other's sign is named at the call that hands it, not at the update."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

FUNCTIONS = '''\
import numpy as np


def score_forward(x, W1, w2):
    h = np.tanh(x @ W1)
    return h @ w2, (x, h)


def score_backward(dscore, cache, w2):
    x, h = cache
    dh = np.outer(dscore, w2) * (1 - h ** 2)
    return x.T @ dh, h.T @ dscore


def ranking_loss(W1, w2, xa, xb, y):
    sa, ca = score_forward(xa, W1, w2)
    sb, cb = score_forward(xb, W1, w2)
    margin = y * (sa - sb)
    loss = np.mean(np.log1p(np.exp(-margin)))
    dmargin = -1.0 / (1.0 + np.exp(margin)) / len(y)
    ds = dmargin * y
    dW1a, dw2a = score_backward(ds, ca, w2)
    dW1b, dw2b = score_backward(-ds, cb, w2)
    return loss, dW1a + dW1b, dw2a + dw2b


rng = np.random.default_rng(14)
truth = rng.normal(size=5)
W1 = rng.normal(0, 0.5, (5, 8))
w2 = rng.normal(0, 0.5, 8)
lr = 0.3
for it in range(200):
    xa = rng.normal(size=(32, 5))
    xb = rng.normal(size=(32, 5))
    y = np.sign(xa @ truth - xb @ truth)
    loss, dW1, dw2 = ranking_loss(W1, w2, xa, xb, y)
    W1 -= lr * dW1
    w2 -= lr * dw2
    if it % 40 == 0:
        print(it, loss)
'''

METHODS = '''\
import numpy as np


class Twin:
    """One encoder applied to both inputs; the squared distance of the codes regresses a target."""

    def __init__(self, d, k, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, 0.4, (d, k))
        self.b = np.zeros(k)

    def embed(self, x):
        z = np.maximum(x @ self.W + self.b, 0)
        return z, (x, z)

    def embed_grads(self, dz, cache):
        x, z = cache
        dpre = dz * (z > 0)
        return x.T @ dpre, dpre.sum(axis=0)

    def step(self, left, right, target, lr):
        n = len(target)
        zl, cl = self.embed(left)
        zr, cr = self.embed(right)
        gap = zl - zr
        dist = np.sum(gap ** 2, axis=1)
        loss = np.mean((dist - target) ** 2)
        ddist = 2 * (dist - target) / n
        dgap = 2 * ddist[:, None] * gap
        dWl, dbl = self.embed_grads(dgap, cl)
        dWr, dbr = self.embed_grads(-dgap, cr)
        self.W -= lr * (dWl + dWr)
        self.b -= lr * (dbl + dbr)
        return loss


rng = np.random.default_rng(15)
net = Twin(4, 6)
for it in range(200):
    left = rng.normal(size=(24, 4))
    right = rng.normal(size=(24, 4))
    target = np.abs(left[:, 0] - right[:, 0])
    loss = net.step(left, right, target, 0.02)
    if it % 40 == 0:
        print(it, loss)
'''

SECOND = "    dW1b, dw2b = score_backward(-ds, cb, w2)\n"
RIGHT = "        dWr, dbr = self.embed_grads(-dgap, cr)\n"


def test_a_branch_handed_the_other_sign_is_named_at_its_call(tmp_path):
    path = planted(tmp_path, "rank.py", FUNCTIONS, SECOND, SECOND.replace("(-ds,", "(ds,"))
    report = check(path)
    first = report["findings"][report["root_cause"]]
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "score_backward(ds, cb, w2)")
    assert "`sb`" in first["message"] and "sign" in first["message"]


def test_the_correct_functions_are_clean(tmp_path):
    assert errors(check(planted(tmp_path, "rank.py", FUNCTIONS, SECOND, SECOND))) == []


def test_in_a_method_that_updates_the_branch_s_call_is_named(tmp_path):
    path = planted(tmp_path, "twin.py", METHODS, RIGHT, RIGHT.replace("(-dgap,", "(dgap,"))
    report = check(path)
    first = report["findings"][report["root_cause"]]
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "self.embed_grads(dgap, cr)")
    assert "`zr`" in first["message"]


def test_the_correct_methods_are_clean(tmp_path):
    assert errors(check(planted(tmp_path, "twin.py", METHODS, RIGHT, RIGHT))) == []
