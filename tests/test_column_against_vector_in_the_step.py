"""A training step that subtracts a vector of N targets from a column of N predictions
(`diff = out - target`, `out` (N, 1), `target` (N,)): NumPy makes an (N, N) array of every sample
against every other, silently, and every gradient computed from it is wrong (here the weights'
gradient comes out (3, N) and the first update turns the weights into that shape). The cause is that
statement, not the gradient's line; the fix is the targets' shape, where they are made. A twin that
makes the targets a column is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = """\
import numpy as np

gen = np.random.default_rng(4)
n = 150
u = np.linspace(-1, 1, n)
target = np.cos(2 * u).reshape(-1, 1)
feats = np.stack([u, u ** 2, u ** 3], axis=1)
feats = (feats - feats.mean(axis=0)) / feats.std(axis=0)

w = gen.normal(size=(3, 1)) * 0.1
c = 0.0
rate = 0.05
for epoch in range(500):
    out = feats @ w + c
    diff = out - target
    cost = np.mean(diff ** 2)
    gw = 2 * feats.T @ diff / n
    gc = 2 * np.mean(diff)
    w = w - rate * gw
    c = c - rate * gc
print(cost)
"""

METHOD = """\
import numpy as np


class Line:
    def __init__(self, k):
        self.w = np.full((k, 1), 0.1)
        self.b = 0.0

    def fit(self, X, t, rounds=300, lr=0.1):
        for _ in range(rounds):
            self.out = X @ self.w + self.b
            cost = np.mean((self.out - t) ** 2)
            g = 2 * (self.out - t) / len(X)
            self.w = self.w - lr * (X.T @ g)
            self.b = self.b - lr * g.sum()
        return cost


gen = np.random.default_rng(1)
X = gen.normal(size=(80, 2))
t = (X @ np.array([1.0, -0.5]) + 0.3).reshape(-1, 1)
print(Line(2).fit(X, t))
"""


def test_targets_made_a_column_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "fit.py", SCRIPT))) == []
    assert errors(check(write(tmp_path, "line.py", METHOD))) == []


def test_a_vector_of_targets_against_a_column_is_named_at_the_subtraction(tmp_path):
    path = planted(tmp_path, "fit.py", SCRIPT, "target = np.cos(2 * u).reshape(-1, 1)", "target = np.cos(2 * u)")
    (found,) = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found["pattern"] == "column-against-vector"
    assert found["line"] == line_of(path, "diff = out - target")
    assert "`out` of shape (150, 1) with `target` of shape (150,)" in found["message"]
    assert "broadcasts to (150, 150)" in found["message"]
    assert f"`target.reshape(-1, 1)`, once, where `target` is made (line {line_of(path, 'target = np.cos')})" in found["message"]


def test_an_attribute_column_in_a_method_is_named_too(tmp_path):
    path = planted(tmp_path, "line.py", METHOD, "t = (X @ np.array([1.0, -0.5]) + 0.3).reshape(-1, 1)", "t = X @ np.array([1.0, -0.5]) + 0.3")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and {f["pattern"] for f in found} == {"column-against-vector"}
    assert found[0]["line"] == line_of(path, "cost = np.mean((self.out - t) ** 2)")
    assert "`self.out` of shape (80, 1) with `t` of shape (80,)" in found[0]["message"]
