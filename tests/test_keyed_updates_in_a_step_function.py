"""A step function that computes the loss and its gradients inline and moves a dict of whatever name,
keyed by the parameters' names (`p["W2"] -= lr * h.T @ d_out`), is the training step: its updates
are read as updates (the dict is named `p`, the product is written without brackets), so the step is
replayed and its gradients compared with the loss it returns.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(3)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def step(p, X, y, lr):
    h = sigmoid(X @ p["W1"] + p["b1"])
    out = sigmoid(h @ p["W2"] + p["b2"])
    n = len(X)
    loss = 0.5 * np.sum((out - y) ** 2) / n
    d_out = (out - y) * out * (1 - out) / n
    dh = d_out @ p["W2"].T * h * (1 - h)
    p["W2"] -= lr * h.T @ d_out
    p["b2"] -= lr * d_out.sum(0)
    p["W1"] -= lr * X.T @ dh
    p["b1"] -= lr * dh.sum(0)
    return loss


X = rng.uniform(-1, 1, (200, 4))
y = ((X[:, 0] * X[:, 1] > 0) ^ (X[:, 2] > 0.2)).astype(float)[:, None]
p = {"W1": rng.normal(0, 1.0, (4, 16)), "b1": np.zeros(16), "W2": rng.normal(0, 1.0, (16, 1)), "b2": np.zeros(1)}
for epoch in range(300):
    loss = step(p, X, y, lr=2.0)
'''

RIGHT = "    dh = d_out @ p[\"W2\"].T * h * (1 - h)\n"


def test_the_step_is_replayed_and_clean(tmp_path):
    report = check(planted(tmp_path, "net.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert {q["name"] for q in replayed(report)["parameters"]} == {"p['W1']", "p['b1']", "p['W2']", "p['b2']"}


def test_a_missing_derivative_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, RIGHT, "    dh = d_out @ p[\"W2\"].T * h\n")
    assert errors(check(path))[0]["line"] == line_of(path, "dh = d_out @ p[\"W2\"].T * h")
