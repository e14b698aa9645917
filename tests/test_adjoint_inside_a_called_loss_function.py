"""A loss function the step calls hands back the gradient of the loss's input beside the loss
(`loss, dpred = huber(pred, y)`, `return loss.mean(), dpred / len(pred)`, or a method
`return np.sum(losses) / n, ds / n`). When that gradient is wrong, the line to fix is the first
wrong adjoint inside the function (`dr`, `ds` there), not the call that receives it: the walk goes
into the function from the loss backwards, its per-sample adjoints judged at the batch's scale the
return divides by."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

SCRIPT = '''\
import numpy as np


def huber(pred, target, delta=1.0):
    """mean Huber loss of the predictions and its gradient"""
    r = pred - target
    small = np.abs(r) <= delta
    loss = np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta))
    dr = np.where(small, r, delta * np.sign(r))
    dpred = dr * 1.0
    return loss.mean(), dpred / len(pred)


rng = np.random.default_rng(4)
X = rng.normal(size=(120, 3))
y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_cauchy(120)
W = rng.normal(0, 0.5, (3, 8))
c = np.zeros(8)
v = rng.normal(0, 0.5, 8)
lr = 0.1
for epoch in range(300):
    a = np.tanh(X @ W + c)
    pred = a @ v
    loss, dpred = huber(pred, y)
    dv = a.T @ dpred
    da = np.outer(dpred, v) * (1 - a ** 2)
    dW = X.T @ da
    dc = da.sum(axis=0)
    W -= lr * dW
    c -= lr * dc
    v -= lr * dv
    if epoch % 50 == 0:
        print(epoch, loss)
'''

METHOD = '''\
import numpy as np


class Model:
    def __init__(self, d, h, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(0, 0.4, (d, h))
        self.b1 = np.zeros(h)
        self.w2 = rng.normal(0, 0.4, h)

    def weighted_logistic(self, s, t, pos_weight=3.0):
        n = len(s)
        p = 1.0 / (1.0 + np.exp(-s))
        weight = np.where(t == 1, pos_weight, 1.0)
        losses = -weight * (t * np.log(p) + (1 - t) * np.log(1 - p))
        ds = weight * (p - t)
        return np.sum(losses) / n, ds / n


def train(model, X, t, lr=0.5, steps=200):
    for i in range(steps):
        hpre = X @ model.W1 + model.b1
        hid = np.maximum(hpre, 0)
        s = hid @ model.w2
        loss, ds = model.weighted_logistic(s, t)
        dw2 = hid.T @ ds
        dhid = np.outer(ds, model.w2) * (hpre > 0)
        model.W1 -= lr * (X.T @ dhid)
        model.b1 -= lr * dhid.sum(axis=0)
        model.w2 -= lr * dw2
        if i % 40 == 0:
            print(i, loss)


rng = np.random.default_rng(2)
X = rng.normal(size=(90, 4))
t = (X[:, 0] - X[:, 2] > 0.8).astype(float)
train(Model(4, 10), X, t)
'''

SLOPE = "    dr = np.where(small, r, delta * np.sign(r))\n"
WEIGHTED = "        ds = weight * (p - t)\n"


def test_a_wrong_derivative_inside_a_script_s_loss_function_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "huber.py", SCRIPT, SLOPE, "    dr = np.where(small, r, delta)\n")
    report = check(path)
    (first,) = errors(report)
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "dr = np.where(small, r, delta)")
    assert "`dr`" in first["message"] and "`r`" in first["message"]
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["dr"]["wrong"] is True


def test_the_correct_script_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "huber.py", SCRIPT, SLOPE, SLOPE))) == []


def test_a_weight_left_out_inside_a_loss_method_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "weighted.py", METHOD, WEIGHTED, "        ds = p - t\n")
    (first,) = errors(check(path))
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "ds = p - t")
    assert "`s`" in first["message"]


def test_the_correct_method_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "weighted.py", METHOD, WEIGHTED, WEIGHTED))) == []
