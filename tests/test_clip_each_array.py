"""A clip that rescales each gradient to one norm of its own (`g *= max_norm / norm` for each array whose
norm passes the threshold) is not a wrong gradient: every clipped array is the gradient times a factor of
its own, and its norm is the clip's threshold (`replay.gradients._clipped_each`). A gradient wrong
otherwise in the same program is still named at its line. Programs written for these tests, in two
styles: a script whose clip function walks a list, and a class whose clip method walks a dict."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LIST_EACH = '''\
import numpy as np

rs = np.random.RandomState(7)
X = rs.uniform(-2, 2, size=(300, 3))
t = 30.0 * np.sin(X[:, :1]) + 20.0 * X[:, 1:2] * X[:, 2:3]
W1 = rs.randn(3, 24) * 0.5
c1 = np.zeros(24)
W2 = rs.randn(24, 1) * 0.2
c2 = np.zeros(1)
weights = [W1, c1, W2, c2]


def clip_each(gs, limit):
    for g in gs:
        norm = np.sqrt(np.sum(g * g))
        if norm > limit:
            g *= limit / norm


lr = 0.05
for sweep in range(40):
    for s in range(0, 300, 30):
        xb, tb = X[s:s + 30], t[s:s + 30]
        a = np.tanh(xb @ W1 + c1)
        out = a @ W2 + c2
        mse = np.mean((out - tb) ** 2)
        d = 2 * (out - tb) / len(tb)
        da = d @ W2.T * (1 - a ** 2)
        gs = [xb.T @ da, da.sum(axis=0), a.T @ d, d.sum(axis=0)]
        clip_each(gs, 1.0)
        for w, g in zip(weights, gs):
            w -= lr * g
    if sweep % 10 == 0:
        print(sweep, mse)
'''

DICT_EACH = '''\
import numpy as np

MAX_NORM = 0.5


class Net:
    def __init__(self, rng):
        self.p = {"U": rng.normal(0, 0.4, (2, 16)), "u": np.zeros(16), "V": rng.normal(0, 0.3, (16, 1)), "v": np.zeros(1)}

    def grads(self, x, y):
        h = np.maximum(0, x @ self.p["U"] + self.p["u"])
        pred = h @ self.p["V"] + self.p["v"]
        err = pred - y
        dpred = 2 * err / len(x)
        dh = dpred @ self.p["V"].T * (h > 0)
        return float(np.mean(err ** 2)), {"U": x.T @ dh, "u": dh.sum(0), "V": h.T @ dpred, "v": dpred.sum(0)}

    def clip(self, grads, max_norm):
        for key, g in grads.items():
            norm = np.linalg.norm(g)
            if norm > max_norm:
                grads[key] = g * (max_norm / norm)

    def update(self, grads, lr):
        for key in self.p:
            self.p[key] -= lr * grads[key]


rng = np.random.default_rng(5)
inputs = rng.uniform(-3, 3, (240, 2))
targets = 12.0 * np.cos(inputs[:, :1]) * inputs[:, 1:] + 4.0
net = Net(rng)
for epoch in range(60):
    order = rng.permutation(240)
    for k in range(0, 240, 24):
        rows = order[k:k + 24]
        cost, grads = net.grads(inputs[rows], targets[rows])
        net.clip(grads, MAX_NORM)
        net.update(grads, 0.05)
    if epoch % 20 == 0:
        print(epoch, cost)
'''


def _mismatches(report: dict) -> list[dict]:
    return [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]


def test_a_list_clipped_array_by_array_is_right_and_a_wrong_gradient_beside_it_is_named(tmp_path):
    clean = check(write(tmp_path, "each.py", LIST_EACH), training=True)
    assert _mismatches(clean) == []
    bug = planted(tmp_path, "each_bug.py", LIST_EACH, "da = d @ W2.T * (1 - a ** 2)", "da = d @ W2.T * (1 - a)")
    (found,) = [f for f in _mismatches(check(bug, training=True)) if f["line"] == line_of(bug, "da = d @ W2.T * (1 - a)")]
    assert found["severity"] == "error"


def test_a_dict_clipped_entry_by_entry_in_a_method_is_right_and_a_wrong_gradient_beside_it_is_named(tmp_path):
    clean = check(write(tmp_path, "net.py", DICT_EACH), training=True)
    assert _mismatches(clean) == []
    bug = planted(tmp_path, "net_bug.py", DICT_EACH, '"u": dh.sum(0)', '"u": dh.sum()')
    assert [f["line"] for f in _mismatches(check(bug, training=True))] == [line_of(bug, '"u": dh.sum()')]
