"""A statement that only unpacks the parameters from their container (`Wa, ba, Wb, bb = params['Wa'],
params['ba'], ...`) computes nothing: when an L2 gradient is half the loss's penalty's (`lam * W` added where
the loss has `lam * sum(W ** 2)`), the wrong gradients share that line only because they read the parameters,
so it is never the line blamed (`static.wrong_only._unpacks_parameters`); the penalty's line is the root cause.
Two styles: cs231n-like functions (the unpacking blamed before this fix) and a class whose `loss` method
unpacks `self.params`; each beside its correct twin, which stays clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

FUNCTIONS = '''\
import numpy as np


def net_loss(X, params, y, lam):
    Wa, ba, Wb, bb = params['Wa'], params['ba'], params['Wb'], params['bb']
    n = X.shape[0]
    pre = X.dot(Wa) + ba
    act = np.maximum(pre, 0.0)
    logits = act.dot(Wb) + bb
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y])) + lam * (np.sum(Wa ** 2) + np.sum(Wb ** 2))

    grads = {}
    dlogits = p.copy()
    dlogits[np.arange(n), y] -= 1.0
    dlogits /= n
    grads['Wb'] = act.T.dot(dlogits)
    grads['bb'] = dlogits.sum(axis=0)
    dact = dlogits.dot(Wb.T)
    dact[pre <= 0] = 0.0
    grads['Wa'] = X.T.dot(dact)
    grads['ba'] = dact.sum(axis=0)
    grads['Wb'] += 2 * lam * Wb
    grads['Wa'] += 2 * lam * Wa
    return loss, grads


rs = np.random.RandomState(7)
X = rs.randn(90, 6)
y = rs.randint(0, 3, size=90)
params = {'Wa': 0.1 * rs.randn(6, 12), 'ba': np.zeros(12), 'Wb': 0.1 * rs.randn(12, 3), 'bb': np.zeros(3)}
for i in range(200):
    loss, grads = net_loss(X, params, y, 0.03)
    for name in params:
        params[name] -= 0.5 * grads[name]
    if i % 50 == 0:
        print(i, loss)
'''

METHOD = '''\
import numpy as np


class SmallClassifier:
    def __init__(self, d, h, c, weight_decay=0.01, seed=2):
        g = np.random.default_rng(seed)
        self.params = {"W1": g.normal(0, 0.2, (d, h)), "b1": np.zeros(h), "W2": g.normal(0, 0.2, (h, c)), "b2": np.zeros(c)}
        self.weight_decay = weight_decay

    def loss(self, X, y):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        m = len(X)
        z = X @ W1 + b1
        h = np.tanh(z)
        s = h @ W2 + b2
        s = s - s.max(axis=1, keepdims=True)
        q = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        data = -np.log(q[np.arange(m), y]).sum() / m
        penalty = self.weight_decay * ((W1 * W1).sum() + (W2 * W2).sum())
        ds = q.copy()
        ds[np.arange(m), y] -= 1
        ds = ds / m
        g = {}
        g["W2"] = h.T @ ds
        g["b2"] = ds.sum(axis=0)
        dz = (ds @ W2.T) * (1 - h ** 2)
        g["W1"] = X.T @ dz
        g["b1"] = dz.sum(axis=0)
        g["W1"] += 2 * self.weight_decay * W1
        g["W2"] += 2 * self.weight_decay * W2
        return data + penalty, g

    def train(self, X, y, lr=0.3, steps=150):
        for t in range(steps):
            value, g = self.loss(X, y)
            for key in self.params:
                self.params[key] -= lr * g[key]
            if t % 50 == 0:
                print(t, value)


rng = np.random.default_rng(4)
X = rng.normal(size=(100, 5))
y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
SmallClassifier(5, 9, 2).train(X, y)
'''


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


def _warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "warning"]


def test_functions_with_the_penalty_gradient_right_are_clean(tmp_path):
    report = check(write(tmp_path, "twolayer.py", FUNCTIONS))
    assert errors(report) == [] and _warnings(report) == [], report["findings"]


def test_functions_half_the_penalty_gradient_is_named_at_the_penalty_not_the_unpacking(tmp_path):
    path = planted(tmp_path, "twolayer.py", FUNCTIONS, "grads['Wb'] += 2 * lam * Wb\n    grads['Wa'] += 2 * lam * Wa", "grads['Wb'] += lam * Wb\n    grads['Wa'] += lam * Wa")
    report = check(path)
    unpacking = line_of(path, "Wa, ba, Wb, bb = ")
    assert all(f["line"] != unpacking for f in report["findings"]), report["findings"]
    root = _root(report)
    assert root["severity"] == "error" and root["line"] in (line_of(path, "grads['Wb'] += lam"), line_of(path, "grads['Wa'] += lam")), report["findings"]
    assert "penalty" in root["message"], root["message"]


def test_method_with_the_penalty_gradient_right_is_clean(tmp_path):
    report = check(write(tmp_path, "smallnet.py", METHOD))
    assert errors(report) == [] and _warnings(report) == [], report["findings"]


def test_method_half_the_penalty_gradient_is_named_at_the_penalty_not_the_unpacking(tmp_path):
    path = planted(tmp_path, "smallnet.py", METHOD, 'g["W1"] += 2 * self.weight_decay * W1', 'g["W1"] += self.weight_decay * W1')
    report = check(path)
    unpacking = line_of(path, "W1, b1, W2, b2 = ")
    assert all(f["line"] != unpacking for f in report["findings"]), report["findings"]
    root = _root(report)
    assert root["severity"] == "error" and root["line"] == line_of(path, 'g["W1"] += self.weight_decay'), report["findings"]
