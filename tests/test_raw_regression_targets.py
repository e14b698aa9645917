"""Regression targets on their raw scale (salaries in dollars, flat counts of visitors): a network of
tanh units only learns their mean through its output bias, while gradients that large saturate its
hidden units. Its tiny batch's loss falls by the mean's share of the targets' mean square and stops:
that is not a fit, and the finding names the targets and says to standardise them.

Two styles: a flat function-and-loop script, and a small network class with `params`/`gradient`.
The twins standardise the targets and are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(11)
years = rng.uniform(0, 30, 240)
level = rng.integers(1, 5, 240)
salary = 30000 + 2500 * years + 8000 * level + 4000 * np.sin(years / 3) + 3000 * rng.normal(size=240)
X = np.c_[years, level]
X = (X - X.mean(axis=0)) / X.std(axis=0)
y = ((salary - salary.mean()) / salary.std()).reshape(-1, 1)


def step(W1, b1, W2, b2, X, y, lr):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    err = out - y
    loss = np.mean(err ** 2)
    dout = 2 * err / len(y)
    dh = (dout @ W2.T) * (1 - h ** 2)
    W2 -= lr * h.T @ dout
    b2 -= lr * dout.sum(axis=0)
    W1 -= lr * X.T @ dh
    b1 -= lr * dh.sum(axis=0)
    return loss


W1, b1 = rng.normal(size=(2, 12)) * 0.5, np.zeros(12)
W2, b2 = rng.normal(size=(12, 1)) * 0.3, np.zeros(1)
for epoch in range(400):
    loss = step(W1, b1, W2, b2, X, y, 0.05)
    if epoch % 80 == 0:
        print(epoch, loss)
'''

NETWORK = '''\
import numpy as np


class Regressor:
    def __init__(self, inputs, hidden, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {"W1": rng.randn(inputs, hidden) * 0.5, "b1": np.zeros(hidden),
                       "W2": rng.randn(hidden, 1) * 0.3, "b2": np.zeros(1)}

    def gradient(self, x, t):
        p = self.params
        h = np.tanh(x @ p["W1"] + p["b1"])
        y = h @ p["W2"] + p["b2"]
        loss = 0.5 * np.mean((y - t) ** 2)
        dy = (y - t) / len(t)
        dh = dy @ p["W2"].T * (1 - h ** 2)
        return loss, {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dy, "b2": dy.sum(axis=0)}


rng = np.random.RandomState(5)
x = rng.uniform(-1, 1, (200, 3))
visitors = 5000 + 1200 * x[:, :1] - 800 * x[:, 1:2] ** 2 + 300 * np.cos(4 * x[:, 2:]) + 100 * rng.randn(200, 1)
t = (visitors - visitors.mean()) / visitors.std()
net = Regressor(3, 10)
for i in range(500):
    loss, grads = net.gradient(x, t)
    for key in net.params:
        net.params[key] -= 0.1 * grads[key]
    if i % 100 == 0:
        print(i, loss)
'''

CASES = [
    (SCRIPT, "y = ((salary - salary.mean()) / salary.std()).reshape(-1, 1)", "y = salary.reshape(-1, 1)", "y"),
    (NETWORK, "t = (visitors - visitors.mean()) / visitors.std()", "t = visitors", "t"),
]


@pytest.mark.parametrize("text, correct, wrong, name", CASES, ids=["script", "network-class"])
def test_raw_targets_are_named_as_what_stops_the_fit(tmp_path, text, correct, wrong, name):
    path = planted(tmp_path, "regress.py", text, correct, wrong)
    report = check(path, training=True)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]
    assert finding["line"] == line_of(path, wrong)
    assert f"`{name}` holds targets up to" in finding["message"] and "standardise the targets" in finding["message"]
    assert "no lower than fitting their mean alone leaves" in finding["message"]


@pytest.mark.parametrize("text", [SCRIPT, NETWORK], ids=["script", "network-class"])
def test_standardised_targets_are_clean(tmp_path, text):
    path = planted(tmp_path, "regress.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
