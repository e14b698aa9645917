"""A softmax normalised by binding its name again (`g = g / g.sum(axis=1, keepdims=True)`, as
`g /= ...` would) is the forward value its adjoint (`dg`, `da`) is the gradient of: measured against
the exponentials before the division, a right `dg` looked wrong and was named instead of the later
statement that sums over the wrong axis."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PAIRS = '''\
import numpy as np


def mixture(x, Wg, We):
    s = x @ Wg
    g = np.exp(s - s.max(axis=1, keepdims=True))
    g = g / g.sum(axis=1, keepdims=True)
    e = x @ We
    out = np.sum(g * e, axis=1)
    return out, (x, g, e)


def mixture_grads(dout, cache):
    x, g, e = cache
    dg = dout[:, None] * e
    ds = g * (dg - np.sum(dg * g, axis=1, keepdims=True))
    dWg = x.T @ ds
    dWe = x.T @ (dout[:, None] * g)
    return dWg, dWe


rng = np.random.default_rng(6)
X = rng.normal(size=(80, 5))
y = np.where(X[:, 0] > 0, X @ np.ones(5), -X[:, 1])
Wg = rng.normal(0, 0.5, (5, 3))
We = rng.normal(0, 0.5, (5, 3))
lr = 0.05
for it in range(200):
    out, cache = mixture(X, Wg, We)
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / len(y)
    dWg, dWe = mixture_grads(dout, cache)
    Wg -= lr * dWg
    We -= lr * dWe
    if it % 40 == 0:
        print(it, loss)
'''

ONE_FUNCTION = '''\
import numpy as np


def loss_and_grads(params, X, y):
    n = len(X)
    h = np.tanh(X @ params["W1"])
    z = h @ params["W2"]
    a = np.exp(z - z.max(axis=1, keepdims=True))
    a = a / a.sum(axis=1, keepdims=True)
    pred = a @ params["c"]
    loss = 0.5 * np.mean((pred - y) ** 2)
    dpred = (pred - y) / n
    dc = a.T @ dpred
    da = np.outer(dpred, params["c"])
    dz = a * (da - (da * a).sum(axis=1, keepdims=True))
    dW2 = h.T @ dz
    dh = dz @ params["W2"].T
    dW1 = X.T @ (dh * (1 - h ** 2))
    return loss, {"W1": dW1, "W2": dW2, "c": dc}


rng = np.random.default_rng(7)
X = rng.normal(size=(64, 4))
y = np.sin(X[:, 0]) + X[:, 1] ** 2
params = {"W1": rng.normal(0, 0.5, (4, 6)), "W2": rng.normal(0, 0.5, (6, 3)), "c": rng.normal(0, 1.0, 3)}
for step in range(300):
    loss, grads = loss_and_grads(params, X, y)
    for key in params:
        params[key] -= 0.1 * grads[key]
    if step % 50 == 0:
        print(step, loss)
'''

GATE = "    ds = g * (dg - np.sum(dg * g, axis=1, keepdims=True))\n"
MIX = "    dz = a * (da - (da * a).sum(axis=1, keepdims=True))\n"


def test_the_softmax_backward_s_wrong_axis_is_named_not_the_right_adjoint_before_it(tmp_path):
    path = planted(tmp_path, "gate.py", PAIRS, GATE, GATE.replace("axis=1", "axis=0"))
    report = check(path)
    (first,) = errors(report)
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "ds = g * (dg")
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["dg"]["wrong"] is False


def test_the_correct_pairs_are_clean(tmp_path):
    assert errors(check(planted(tmp_path, "gate.py", PAIRS, GATE, GATE))) == []


def test_in_one_loss_and_gradients_function_the_wrong_axis_is_named(tmp_path):
    path = planted(tmp_path, "mix.py", ONE_FUNCTION, MIX, MIX.replace("axis=1", "axis=0"))
    report = check(path)
    first = report["findings"][report["root_cause"]]  # the network's own check of its gradients comes after it
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "dz = a * (da")
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["da"]["wrong"] is False


def test_the_correct_function_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "mix.py", ONE_FUNCTION, MIX, MIX))) == []
