"""A network class with no `loss(x, t)` whose `gradient(x, t)` returns the loss beside its gradients
(`return loss, grads`): its loss is read from that return, not asked of a method it does not have.
It was reported as a forward pass raising AttributeError. A wrong gradient is still found.

Two styles: parameters in a `params` dict, and parameters as attributes (`self.W1`) with gradients
returned in a dict keyed like them.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

DICT_STYLE = '''\
import numpy as np


class TwoLayer:
    def __init__(self, n_in, n_hidden, n_out, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {"W1": rng.randn(n_in, n_hidden) * 0.3, "b1": np.zeros(n_hidden),
                       "W2": rng.randn(n_hidden, n_out) * 0.3, "b2": np.zeros(n_out)}

    def gradient(self, x, t):
        p = self.params
        h = np.maximum(0, x @ p["W1"] + p["b1"])
        s = h @ p["W2"] + p["b2"]
        s = s - s.max(axis=1, keepdims=True)
        prob = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        n = len(x)
        loss = -np.log(prob[np.arange(n), t]).mean()
        ds = prob.copy()
        ds[np.arange(n), t] -= 1
        ds /= n
        dh = ds @ p["W2"].T
        dh[h <= 0] = 0
        return loss, {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ ds, "b2": ds.sum(axis=0)}


rng = np.random.RandomState(2)
x = rng.randn(150, 4)
t = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
net = TwoLayer(4, 16, 2)
for i in range(200):
    loss, grads = net.gradient(x, t)
    for k in net.params:
        net.params[k] -= 0.5 * grads[k]
    if i % 50 == 0:
        print(i, loss)
'''

ATTRIBUTE_STYLE = '''\
import numpy as np


class Net:
    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(size=(3, 8)) * 0.5
        self.b1 = np.zeros(8)
        self.W2 = rng.normal(size=(8, 1)) * 0.5
        self.b2 = np.zeros(1)
        self.params = {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def gradient(self, X, y):
        a = np.tanh(X @ self.W1 + self.b1)
        out = a @ self.W2 + self.b2
        loss = 0.5 * np.mean((out - y) ** 2)
        dout = (out - y) / len(X)
        da = (dout @ self.W2.T) * (1 - a ** 2)
        return loss, {"W1": X.T @ da, "b1": da.sum(axis=0), "W2": a.T @ dout, "b2": dout.sum(axis=0)}


rng = np.random.default_rng(3)
X = rng.uniform(-1, 1, (120, 3))
y = np.sin(2 * X[:, :1]) * X[:, 1:2] + 0.3 * X[:, 2:]
net = Net()
for step in range(300):
    loss, grads = net.gradient(X, y)
    for k, p in net.params.items():
        p -= 0.2 * grads[k]
    if step % 60 == 0:
        print(step, loss)
'''


@pytest.mark.parametrize("text", [DICT_STYLE, ATTRIBUTE_STYLE], ids=["params-dict", "attributes"])
def test_the_correct_network_is_checked_and_clean(tmp_path, text):
    report = check(write(tmp_path, "net.py", text))
    assert errors(report) == []
    rows = [m for m in report["measurements"] if m["layer"] in ("TwoLayer", "Net")]
    assert {m["param"] for m in rows} == {"W1", "b1", "W2", "b2"} and all(m["verdict"] == "ok" for m in rows)


@pytest.mark.parametrize(
    "text, correct, wrong, param",
    [
        (DICT_STYLE, "dh[h <= 0] = 0", "dh[h < 0] = 1", "W1"),
        (ATTRIBUTE_STYLE, "da = (dout @ self.W2.T) * (1 - a ** 2)", "da = (dout @ self.W2.T) * (1 - a)", "W1"),
    ],
    ids=["params-dict", "attributes"],
)
def test_a_wrong_gradient_is_found(tmp_path, text, correct, wrong, param):
    path = planted(tmp_path, "net.py", text, correct, wrong)
    found = errors(check(path))
    assert found and any(f["param"] == param or f["line"] == line_of(path, wrong) for f in found)
