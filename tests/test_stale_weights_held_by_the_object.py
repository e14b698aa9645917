"""A training method that moves a weight its object holds (`self.B -= lr * ...`) and only then computes
the hidden layer's gradient from it (`g_hid = g_out @ self.B.T * ...`): the hidden gradient is taken at
weights the forward pass never used. The replay finds the hidden updates off; the report names the
statement that read the moved attribute and the update that moved it, as for a plain name in a script.
The twin that computes every gradient before updating is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """\
import numpy as np


class TwoLayer:
    def __init__(self, inputs, hidden, seed=3):
        gen = np.random.default_rng(seed)
        self.A = gen.normal(size=(inputs, hidden))
        self.a = np.zeros(hidden)
        self.B = gen.normal(size=(hidden, 1))
        self.c = np.zeros(1)

    def fit(self, X, t, rounds, lr):
        for r in range(rounds):
            h = np.tanh(X @ self.A + self.a)
            q = 1 / (1 + np.exp(-(h @ self.B + self.c)))
            cost = -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))
            g_out = (q - t) / len(X)
            g_hid = g_out @ self.B.T * (1 - h ** 2)
            self.B -= lr * h.T @ g_out
            self.c -= lr * g_out.sum(axis=0)
            self.A -= lr * X.T @ g_hid
            self.a -= lr * g_hid.sum(axis=0)
        return cost


gen = np.random.default_rng(0)
X = gen.normal(size=(150, 3))
t = (X[:, :1] - X[:, 1:2] > 0).astype(float)
print(TwoLayer(3, 6).fit(X, t, 300, 5.0))
"""

HIDDEN = "            g_hid = g_out @ self.B.T * (1 - h ** 2)\n"
OUTPUT_BIAS = "            self.c -= lr * g_out.sum(axis=0)\n"


def test_gradients_computed_before_any_update_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "net.py", PROGRAM))) == []


def test_hidden_gradient_read_after_the_attribute_moved_is_named_at_the_read(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM.replace(HIDDEN, ""), OUTPUT_BIAS, OUTPUT_BIAS + HIDDEN)
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and {f["pattern"] for f in found} == {"stale-weights"}
    read, moved = line_of(path, "g_hid = g_out @ self.B.T"), line_of(path, "self.B -= lr")
    assert {f["line"] for f in found} == {read}
    assert {f["param"] for f in found} <= {"self.A", "self.a"}
    message = found[0]["message"]
    assert f"computed from `self.B` at line {read}, after line {moved} has already updated `self.B`" in message
    assert f"move the update at line {moved} below line {read}" in message
