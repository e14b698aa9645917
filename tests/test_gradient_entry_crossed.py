"""One parameter's gradient stored under another's key (`{..., 'b1': gb2}`, `grads["b1"] = db2`), both the
same size, while the gradient computed for it (`gb1`, `db1`) is never used: the finding names the store, with
the fix, not the line that computed the other parameter's gradient. Two styles: a function returning a dict
literal of gradients (the function check names it), and a class whose backward fills a dict entry by entry
(the replay names it). The correct twins are clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

LITERAL = """\
import numpy as np

rng = np.random.default_rng(9)
X = rng.uniform(-2, 2, size=(256, 2))
T = (np.sin(X[:, :1]) * np.cos(X[:, 1:]))


def init(sizes):
    return {"W1": rng.normal(0, 0.5, (sizes[0], sizes[1])), "b1": np.zeros(sizes[1]),
            "W2": rng.normal(0, 0.5, (sizes[1], sizes[2])), "b2": np.zeros(sizes[2]),
            "W3": rng.normal(0, 0.5, (sizes[2], sizes[3])), "b3": np.zeros(sizes[3])}


def grad_and_loss(P, xb, tb):
    a1 = np.tanh(xb @ P["W1"] + P["b1"])
    a2 = np.tanh(a1 @ P["W2"] + P["b2"])
    yhat = a2 @ P["W3"] + P["b3"]
    err = yhat - tb
    loss = 0.5 * np.mean(np.sum(err ** 2, axis=1))
    g_out = err / len(xb)
    gW3, gb3 = a2.T @ g_out, g_out.sum(0)
    g_a2 = g_out @ P["W3"].T * (1 - a2 ** 2)
    gW2, gb2 = a1.T @ g_a2, g_a2.sum(0)
    g_a1 = g_a2 @ P["W2"].T * (1 - a1 ** 2)
    gW1 = xb.T @ g_a1
    gb1 = g_a1.sum(0)
    return loss, {"W3": gW3, "b3": gb3, "W2": gW2, "b2": gb2, "W1": gW1, "b1": gb1}


P = init([2, 10, 10, 1])
for epoch in range(60):
    for s in range(0, 256, 32):
        loss, G = grad_and_loss(P, X[s:s + 32], T[s:s + 32])
        for name in P:
            P[name] -= 0.1 * G[name]
print(loss)
"""

ENTRIES = """\
import numpy as np


class Regressor:
    def __init__(self, seed=0):
        r = np.random.RandomState(seed)
        self.params = {"W1": r.randn(3, 12) * 0.4, "b1": np.zeros(12), "W2": r.randn(12, 12) * 0.3, "b2": np.zeros(12), "W3": r.randn(12, 1) * 0.3, "b3": np.zeros(1)}

    def forward(self, x):
        p = self.params
        self.x = x
        self.h1 = np.maximum(0.0, x @ p["W1"] + p["b1"])
        self.h2 = np.tanh(self.h1 @ p["W2"] + p["b2"])
        return self.h2 @ p["W3"] + p["b3"]

    def backward(self, dy):
        p = self.params
        grads = {}
        grads["W3"] = self.h2.T @ dy
        grads["b3"] = dy.sum(axis=0)
        dz2 = (dy @ p["W3"].T) * (1.0 - self.h2 ** 2)
        dW2 = self.h1.T @ dz2
        db2 = dz2.sum(axis=0)
        dz1 = (dz2 @ p["W2"].T) * (self.h1 > 0)
        dW1 = self.x.T @ dz1
        db1 = dz1.sum(axis=0)
        grads["W2"] = dW2
        grads["b2"] = db2
        grads["W1"] = dW1
        grads["b1"] = db1
        return grads


r = np.random.RandomState(3)
X = r.randn(200, 3)
Y = X[:, :1] * X[:, 1:2] - 0.5 * X[:, 2:]
net = Regressor()
for epoch in range(40):
    for i in range(0, 200, 20):
        out = net.forward(X[i:i + 20])
        mse = np.mean((out - Y[i:i + 20]) ** 2)
        grads = net.backward(2 * (out - Y[i:i + 20]) / out.size)
        for k in net.params:
            net.params[k] -= 0.05 * grads[k]
print(mse)
"""


def _clean(report: dict) -> bool:
    return not [f for f in report["findings"] if f["severity"] in ("error", "warning")]

RIGHT_L = '"W1": gW1, "b1": gb1}'
CROSSED_L = '"W1": gW1, "b1": gb2}'
RIGHT_E = '        grads["b1"] = db1'
CROSSED_E = '        grads["b1"] = db2'


def test_the_correct_literal_is_clean(tmp_path):
    assert _clean(check(planted(tmp_path, "mlp_fn.py", LITERAL, RIGHT_L, RIGHT_L)))


def test_a_crossed_literal_entry_is_named_there(tmp_path):
    path = planted(tmp_path, "mlp_fn.py", LITERAL, RIGHT_L, CROSSED_L)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error"
    assert root["line"] == line_of(path, CROSSED_L)
    assert root["pattern"] == "crossed-gradient"
    assert "`'b1': gb1`" in root["message"]


def test_the_correct_class_is_clean(tmp_path):
    assert _clean(check(planted(tmp_path, "mlp_cls.py", ENTRIES, RIGHT_E, RIGHT_E)))


def test_a_crossed_entry_store_is_named_there(tmp_path):
    path = planted(tmp_path, "mlp_cls.py", ENTRIES, RIGHT_E, CROSSED_E)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error"
    assert root["line"] == line_of(path, CROSSED_E)
    assert root["pattern"] == "crossed-gradient"
    assert "grads['b1'] = db1" in root["message"]
