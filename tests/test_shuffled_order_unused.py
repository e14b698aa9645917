"""A training loop that computes a shuffled order at every pass and never reads it, cutting its batch at a fixed
slice instead (`perm = np.random.permutation(n)`, then `xb = X[:bs]`), trains on the same rows at every step
(`checks/step_same_batch.py`, `static/same_batch.fixed_batch`, pattern `shuffled-order-unused`): named at the cut.
The same programs taking the batch through the order are clean."""

from __future__ import annotations

from tests.userfiles import check, line_of, write

# a flat script, a softmax classifier on data sorted by class
SCRIPT = '''\
import numpy as np

np.random.seed(0)
X = np.concatenate([np.random.randn(40, 2) + c for c in ([2, 0], [-2, 0])])
y = np.repeat(np.arange(2), 40)
W, b = np.zeros((2, 2)), np.zeros(2)


def loss_grads(W, b, Xb, yb):
    s = Xb @ W + b
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(yb)), yb]).mean()
    d = p.copy()
    d[np.arange(len(yb)), yb] -= 1
    d /= len(yb)
    return loss, Xb.T @ d, d.sum(axis=0)


bs = 16
for it in range(60):
    perm = np.random.permutation(len(X))
    {cut}
    loss, dW, db = loss_grads(W, b, xb, yb)
    W -= 0.3 * dW
    b -= 0.3 * db
    if it % 20 == 0:
        print(it, loss)
'''

# a function with a generator, regression
FUNCTION = '''\
import numpy as np


def fit(X, t, w, steps=50, batch=8, lr=0.05):
    rng = np.random.default_rng(3)
    for step in range(steps):
        order = rng.permutation(X.shape[0])
        {cut}
        r = xb @ w - tb
        loss = np.mean(r ** 2)
        w = w - lr * 2 * xb.T @ r / len(xb)
    return w


X = np.random.default_rng(1).normal(size=(40, 3))
t = X @ np.array([[1.0], [2.0], [-1.0]])
w = fit(X, t, np.zeros((3, 1)))
print(float(np.mean((X @ w - t) ** 2)))
'''

SCRIPT_FIXED = "xb, yb = X[:bs], y[:bs]"
SCRIPT_RIGHT = "xb, yb = X[perm[:bs]], y[perm[:bs]]"
FUNCTION_FIXED = "xb, tb = X[:batch], t[:batch]"
FUNCTION_RIGHT = "xb, tb = X[order[:batch]], t[order[:batch]]"


def _named(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD619"]


def test_script_with_an_unused_order_is_named_at_the_cut(tmp_path):
    path = write(tmp_path, "script.py", SCRIPT.format(cut=SCRIPT_FIXED))
    found = _named(check(path))
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, SCRIPT_FIXED)
    assert "`perm`" in found[0]["message"] and "never uses it" in found[0]["message"]


def test_script_taking_the_batch_through_the_order_is_clean(tmp_path):
    report = check(write(tmp_path, "script.py", SCRIPT.format(cut=SCRIPT_RIGHT)))
    assert _named(report) == []


def test_function_with_an_unused_order_is_named_at_the_cut(tmp_path):
    path = write(tmp_path, "function.py", FUNCTION.format(cut=FUNCTION_FIXED))
    found = _named(check(path))
    assert len(found) == 1, found
    assert found[0]["line"] == line_of(path, FUNCTION_FIXED)
    assert "`order`" in found[0]["message"]


def test_function_taking_the_batch_through_the_order_is_clean(tmp_path):
    report = check(write(tmp_path, "function.py", FUNCTION.format(cut=FUNCTION_RIGHT)))
    assert _named(report) == []
