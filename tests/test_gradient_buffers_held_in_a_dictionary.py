"""Gradients an object keeps in a dictionary (`self.grads`), added into by its backward method through
a name bound to it (`P, G = self.params, self.grads`, then `G["B"] += ...`) and read by the update under
the loop's key (`self.params[key] -= self.lr * self.grads[key]`). With the reset (`self.clear()`) left
out of the pass, each update moves by the sum of every gradient so far; the replay reads it as such
(it found no usual loss the updates follow before), and names each sum where the backward adds into it. A reset commented out in the pass is named as the
line to fix. The twin that resets each pass is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """\
import numpy as np


class Regressor:
    def __init__(self, width=16, lr=0.02, rounds=40, batch=25, seed=1):
        self.width, self.lr, self.rounds, self.batch = width, lr, rounds, batch
        self.gen = np.random.default_rng(seed)

    def _setup(self, k):
        self.params = {
            "A": self.gen.normal(size=(k, self.width)) / np.sqrt(k),
            "a": np.zeros(self.width),
            "B": self.gen.normal(size=(self.width, 1)) / np.sqrt(self.width),
            "c": np.zeros(1),
        }
        self.grads = {key: np.zeros_like(val) for key, val in self.params.items()}

    def clear(self):
        for key in self.grads:
            self.grads[key][...] = 0.0

    def _forward(self, X):
        self.X = X
        self.H = np.tanh(X @ self.params["A"] + self.params["a"])
        return self.H @ self.params["B"] + self.params["c"]

    def _backward(self, out, t):
        P, G = self.params, self.grads
        d = 2 * (out - t) / len(t)
        G["B"] += self.H.T @ d
        G["c"] += d.sum(axis=0)
        dh = (d @ P["B"].T) * (1 - self.H ** 2)
        G["A"] += self.X.T @ dh
        G["a"] += dh.sum(axis=0)

    def fit(self, X, t):
        t = t.reshape(-1, 1)
        self._setup(X.shape[1])
        for r in range(self.rounds):
            order = self.gen.permutation(len(X))
            for s in range(0, len(X), self.batch):
                rows = order[s:s + self.batch]
                self.clear()
                out = self._forward(X[rows])
                self._backward(out, t[rows])
                for key in self.params:
                    self.params[key] -= self.lr * self.grads[key]
        return self


gen = np.random.default_rng(9)
X = gen.normal(size=(300, 4))
t = np.cos(X[:, 0]) + X[:, 1] - 0.5 * X[:, 2] * X[:, 3]
Regressor().fit(X, t)
"""

RESET = "                self.clear()\n"


def test_buffers_reset_each_pass_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "reg.py", PROGRAM))) == []


def test_a_reset_commented_out_is_named_where_it_was(tmp_path):
    path = planted(tmp_path, "reg.py", PROGRAM, RESET, "                # self.clear()\n")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and {f["pattern"] for f in found} == {"accumulated-across-steps"}
    assert {f["line"] for f in found} == {line_of(path, "# self.clear()")}
    assert "`self.grads['A']`" in found[0]["message"]
    assert "commented out (`# self.clear()`): put it back" in found[0]["message"]


def test_a_reset_left_out_is_named_as_a_sum_never_reset(tmp_path):
    path = planted(tmp_path, "reg.py", PROGRAM, RESET, "")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and {f["pattern"] for f in found} == {"accumulated-across-steps"}
    # each sum named where the backward adds into it (`G["B"] += ...` through `G = self.grads`)
    assert {f["line"] for f in found} == {line_of(path, f'G["{key}"] += ') for key in "BcAa"}
    assert f"set to zero only once, before the loop, at line {line_of(path, 'self.grads = {')}" in found[0]["message"]
