"""A network's gradient written into a dict literal (`grads = {"W2": ..., "b2": ...}`) and then
completed entry by entry (`grads["b1"] = ...`): a wrong `b2` is reported at the literal that
computes it, not at the last line that writes into `grads`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NET = '''\
import numpy as np


class Net:
    def __init__(self, n_in=3, n_hidden=8, n_out=2):
        self.params = {
            "W1": 0.5 * np.random.randn(n_in, n_hidden), "b1": np.zeros(n_hidden),
            "W2": 0.5 * np.random.randn(n_hidden, n_out), "b2": np.zeros(n_out),
        }

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.params["W1"] + self.params["b1"])
        return self.h @ self.params["W2"] + self.params["b2"]

    def loss(self, x, t):
        return 0.5 * np.mean(np.sum((self.forward(x) - t) ** 2, axis=1))

    def gradient(self, x, t):
        d = (self.forward(x) - t) / len(x)
        grads = {"W2": self.h.T @ d, "b2": d.sum(axis=0)}
        dh = d @ self.params["W2"].T * (1 - self.h ** 2)
        grads["W1"] = self.x.T @ dh
        grads["b1"] = dh.sum(axis=0)
        return grads


X = np.random.randn(200, 3)
T = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
net = Net()
for epoch in range(20):
    grads = net.gradient(X, T)
    for key in net.params:
        net.params[key] -= 0.1 * grads[key]
'''


def test_a_wrong_entry_of_the_literal_is_reported_at_the_literal(tmp_path):
    path = planted(tmp_path, "net.py", NET, '"b2": d.sum(axis=0)', '"b2": 2 * d.sum(axis=0)')
    found = {f["param"]: f["line"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
    assert found.get("b2") == line_of(path, 'grads = {"W2"')


def test_a_wrong_entry_written_later_is_reported_at_its_own_line(tmp_path):
    path = planted(tmp_path, "net.py", NET, 'grads["b1"] = dh.sum(axis=0)', 'grads["b1"] = 2 * dh.sum(axis=0)')
    found = {f["param"]: f["line"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
    assert found.get("b1") == line_of(path, 'grads["b1"] = 2 *')
