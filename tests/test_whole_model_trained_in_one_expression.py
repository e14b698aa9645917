"""A whole model trained as `MLP([3, 24, 1]).fit(X, y)`: its `backward(dout)` keeps the gradients
on the model and returns nothing, on purpose, and `fit` steps with them. A model built and trained in
one expression is no layer handed on (it got "backward returns None, so the gradient stops here"),
and its gradients, from a loss summed batch by batch, carry no penalty (a 6e-10 · W term of rounding
was reported as one)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class MLP:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.W = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(b) for b in sizes[1:]]

    def forward(self, X):
        self.acts = [X]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = self.acts[-1] @ W + b
            self.acts.append(np.maximum(z, 0) if i < len(self.W) - 1 else z)
        return self.acts[-1]

    def backward(self, dout):
        self.dW, self.db = [None] * len(self.W), [None] * len(self.W)
        for i in reversed(range(len(self.W))):
            self.dW[i] = self.acts[i].T @ dout
            self.db[i] = dout.sum(axis=0)
            dout = dout @ self.W[i].T
            if i > 0:
                dout = dout * (self.acts[i] > 0)

    def fit(self, X, y, epochs=30, batch_size=16, lr=0.05):
        for epoch in range(epochs):
            idx = np.random.permutation(len(X))
            X, y = X[idx], y[idx]
            total = 0.0
            for s in range(0, len(X), batch_size):
                xb, yb = X[s:s + batch_size], y[s:s + batch_size]
                out = self.forward(xb)
                total += np.sum((out - yb) ** 2)
                self.backward(2 * (out - yb) / len(xb))
                for i in range(len(self.W)):
                    self.W[i] -= lr * self.dW[i]
                    self.b[i] -= lr * self.db[i]
            if epoch % 10 == 0:
                print(epoch, total / len(X))


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(160, 3)
    y = (X[:, :1] ** 2 - X[:, 1:2])
    MLP([3, 24, 1]).fit(X, y)
'''

SHUFFLED = 'X, y = X[idx], y[idx]'


def test_the_model_trained_in_one_expression_gets_no_finding(tmp_path):
    assert check(planted(tmp_path, "mlp.py", PROGRAM, SHUFFLED, SHUFFLED))["findings"] == []


def test_targets_left_unshuffled_are_still_the_root(tmp_path):
    path = planted(tmp_path, "mlp.py", PROGRAM, SHUFFLED, 'X = X[idx]')
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["name"] == "targets-not-shuffled"
    assert [f["code"] for f in errors(report)] == [root["code"]]
