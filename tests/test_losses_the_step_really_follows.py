"""Which loss a training step follows, where the program shows it in other ways than `loss = ...`:

- a loss only printed, rounded (`round(f(x), 5)`): the replay differentiates `f(x)`, not the
  staircase rounding makes of it, whose slope is zero;
- a loss function that returns the probabilities beside the loss (`return loss, np.exp(logp)`)
  for the caller's own backward pass: that second value is no gradient to check;
- a step that throws away the loss its own function returns (`_, grads = objective(...)`) and prints
  an evaluation on other data: the step follows the returned loss;
- a minibatch step that trains on a changed copy of its batch (noise added) while the epoch prints
  the cost of the clean data: that cost is not the step's, and the cross-entropy the step's
  `ds[np.arange(n), yb] -= 1` implies is.

Each correct program must be clean, and a planted wrong derivative still found.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

ROUNDED = '''\
import numpy as np

rng = np.random.default_rng(2)
x = rng.normal(size=(120, 3))
t = x @ np.array([1.5, -2.0, 0.5]) + 0.3 * np.sin(3 * x[:, 0])


def predict(p, x):
    return np.tanh(x @ p["A"] + p["a"]) @ p["B"] + p["b"]


def huber(p, x, t, delta=1.0):
    r = predict(p, x) - t
    return np.mean(np.where(np.abs(r) < delta, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)))


p = {"A": rng.normal(scale=0.5, size=(3, 10)), "a": np.zeros(10), "B": rng.normal(scale=0.5, size=10), "b": 0.0}
for epoch in range(400):
    h = np.tanh(x @ p["A"] + p["a"])
    r = h @ p["B"] + p["b"] - t
    dr = np.clip(r, -1.0, 1.0) / len(x)
    dh = np.outer(dr, p["B"]) * (1 - h ** 2)
    g = {"A": x.T @ dh, "a": dh.sum(axis=0), "B": h.T @ dr, "b": dr.sum()}
    for k in p:
        p[k] = p[k] - 0.2 * g[k]
    if epoch % 100 == 0:
        print("epoch", epoch, "huber loss", round(huber(p, x, t), 5))
'''
ROUNDED_RIGHT = '    dh = np.outer(dr, p["B"]) * (1 - h ** 2)\n'
ROUNDED_WRONG = '    dh = np.outer(dr, p["B"]) * (1 - h)\n'

PROBABILITIES = '''\
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(150, 4))
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
W = rng.normal(scale=0.1, size=(4, 3))
c = np.zeros(3)


def xent(scores, y):
    s = scores - scores.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean(), np.exp(logp)


for step in range(200):
    loss, probs = xent(X @ W + c, y)
    d = probs.copy()
    d[np.arange(len(y)), y] -= 1
    d /= len(y)
    W -= 0.5 * X.T @ d
    c -= 0.5 * d.sum(axis=0)
    if step % 50 == 0:
        print(step, loss)
'''

DISCARDED = '''\
import numpy as np

rng = np.random.default_rng(4)
S = rng.normal(size=(64, 3))
target = (S[:, 0] - S[:, 2] > 0).astype(float)
w = rng.normal(scale=0.1, size=3)
b = 0.0


def objective(w, b, S, target):
    q = 1 / (1 + np.exp(-(S @ w + b)))
    nll = -np.mean(target * np.log(q) + (1 - target) * np.log(1 - q))
    e = (q - target) / len(S)
    return nll, (S.T @ e, e.sum())


def held_out_error(w, b):
    T = np.random.RandomState(0).normal(size=(200, 3))
    return np.mean(((T @ w + b) > 0) != (T[:, 0] - T[:, 2] > 0))


for it in range(300):
    _, (gw, gb) = objective(w, b, S, target)
    w = w - 0.5 * gw
    b = b - 0.5 * gb
    if it % 100 == 0:
        print("it", it, "held-out loss", held_out_error(w, b))
'''
DISCARDED_RIGHT = "    e = (q - target) / len(S)\n"
DISCARDED_WRONG = "    e = (q - target) * q / len(S)\n"

AUGMENTED = '''\
import numpy as np

rng = np.random.RandomState(3)
X = rng.uniform(0, 1, (200, 6))
y = (X[:, 0] + X[:, 1] > X[:, 2] + 0.5).astype(int) + (X[:, 3] > 0.7)
W1 = rng.randn(6, 12) * 0.3
b1 = np.zeros(12)
W2 = rng.randn(12, 3) * 0.3
b2 = np.zeros(3)


def run(X):
    h = np.tanh(X @ W1 + b1)
    s = h @ W2 + b2
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return h, e / e.sum(axis=1, keepdims=True)


def cost(p, y):
    return -np.mean(np.log(p[np.arange(len(y)), y]))


for epoch in range(40):
    order = rng.permutation(len(X))
    for i in range(0, len(X), 20):
        sel = order[i:i + 20]
        xb = X[sel] + rng.randn(len(sel), 6) * 0.05
        yb = y[sel]
        h, p = run(xb)
        ds = p.copy()
        ds[np.arange(len(yb)), yb] -= 1
        ds /= len(yb)
        dh = ds @ W2.T * (1 - h ** 2)
        W2 -= 0.5 * h.T @ ds
        b2 -= 0.5 * ds.sum(0)
        W1 -= 0.5 * xb.T @ dh
        b1 -= 0.5 * dh.sum(0)
    if epoch % 10 == 0:
        print("epoch", epoch, "clean loss", round(cost(run(X)[1], y), 4))
'''
AUGMENTED_RIGHT = "        dh = ds @ W2.T * (1 - h ** 2)\n"
AUGMENTED_WRONG = "        dh = ds @ W2.T * (1 - h)\n"


def test_a_rounded_printed_loss_is_differentiated_unrounded(tmp_path):
    ok = check(planted(tmp_path, "ok.py", ROUNDED, ROUNDED_RIGHT, ROUNDED_RIGHT))
    assert errors(ok) == []
    assert replayed(ok)["loss"] == "huber(p, x, t)"
    bug = planted(tmp_path, "bug.py", ROUNDED, ROUNDED_RIGHT, ROUNDED_WRONG)
    assert errors(check(bug))[0]["line"] == line_of(bug, "(1 - h)")


def test_probabilities_returned_beside_the_loss_are_not_checked_as_its_gradient(tmp_path):
    report = check(planted(tmp_path, "probs.py", PROBABILITIES, "    d /= len(y)\n", "    d /= len(y)\n"))
    assert errors(report) == []
    assert all(m["layer"] != "xent" for m in report["measurements"])


def test_a_loss_the_step_discards_is_the_one_it_follows(tmp_path):
    ok = check(planted(tmp_path, "ok.py", DISCARDED, DISCARDED_RIGHT, DISCARDED_RIGHT))
    assert errors(ok) == []
    assert replayed(ok)["loss"].startswith("objective")
    bug = planted(tmp_path, "bug.py", DISCARDED, DISCARDED_RIGHT, DISCARDED_WRONG)
    assert errors(check(bug))[0]["code"] == "BPD108"


def test_the_clean_cost_of_a_noisy_batch_is_not_the_steps_loss(tmp_path):
    ok = check(planted(tmp_path, "ok.py", AUGMENTED, AUGMENTED_RIGHT, AUGMENTED_RIGHT))
    assert errors(ok) == []
    assert "cross" in (replayed(ok)["loss"] or "") or "log" in (replayed(ok)["loss"] or "")
    bug = planted(tmp_path, "bug.py", AUGMENTED, AUGMENTED_RIGHT, AUGMENTED_WRONG)
    assert errors(check(bug))[0]["line"] == line_of(bug, "(1 - h)")
