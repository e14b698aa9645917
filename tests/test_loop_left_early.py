"""A `return` indented one level too deep, inside the loop that updates, ends training after one
update: named at its line (BPD624), in a function's minibatch loop and in a script's epoch loop with
a `break`. A loop that skips passes (`continue`) until the one it acts on, and returns there, is a
search, not a training loop cut short.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

FUNCTION = '''\
import numpy as np


def train(X, y, lr=0.1, epochs=50):
    rng = np.random.default_rng(0)
    W = rng.normal(scale=0.1, size=(X.shape[1], 1))
    for epoch in range(epochs):
        for start in range(0, len(X), 16):
            xb, yb = X[start:start + 16], y[start:start + 16]
            err = xb @ W - yb
            W -= lr * 2 * xb.T @ err / len(xb)
    return W


rng = np.random.default_rng(1)
X = rng.normal(size=(96, 3))
y = X @ np.array([[1.0], [2.0], [-1.0]])
print(train(X, y).ravel())
'''

SEARCH = '''\
import numpy as np


class Head:
    def __init__(self):
        self.w = np.zeros((3, 4))

    def backprop(self, d_out, x, lr):
        for i, g in enumerate(d_out):
            if g == 0:
                continue
            self.w[:, i] -= lr * g * x
            return self.w[:, i] * g


head = Head()
print(head.backprop(np.array([0.0, 0.0, 0.5, 0.0]), np.ones(3), 0.1))
'''


def test_a_return_inside_the_minibatch_loop_is_named(tmp_path):
    ok = planted(tmp_path, "ok.py", FUNCTION, "    return W\n", "    return W\n")
    assert [f for f in check(ok)["findings"] if f["code"] == "BPD624"] == []
    path = planted(tmp_path, "bug.py", FUNCTION, "    return W\n", "            return W\n")
    (finding,) = [f for f in errors(check(path)) if f["code"] == "BPD624"]
    assert finding["line"] == line_of(path, "            return W")
    assert "single update" in finding["message"]


def test_a_break_at_the_end_of_the_epoch_loop_is_named(tmp_path):
    text = FUNCTION.replace("            W -= lr * 2 * xb.T @ err / len(xb)\n", "            W -= lr * 2 * xb.T @ err / len(xb)\n        break\n")
    path = planted(tmp_path, "brk.py", text, "    return W\n", "    return W\n")
    (finding,) = [f for f in errors(check(path)) if f["code"] == "BPD624"]
    assert finding["line"] == line_of(path, "        break")


def test_a_search_that_returns_where_it_acts_is_not(tmp_path):
    path = planted(tmp_path, "search.py", SEARCH, "            return self.w[:, i] * g\n", "            return self.w[:, i] * g\n")
    assert [f for f in check(path)["findings"] if f["code"] == "BPD624"] == []
