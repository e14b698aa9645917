"""Gradients clipped elementwise with a bound that is a name, not a number: a default of the
method that updates (`def update(self, lr, limit=1.0)`) or a variable of the script
(`clip = 20.0`). The entries at the bound are left out of the comparison, so a correct program
gets no error; a wrong gradient is still found; and the message shows the clip as written,
its `-limit` included."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

MODEL = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4)) * 3
y = (X @ np.array([[1.0], [-2.0], [0.5], [3.0]])) * 4


class Regressor:
    def __init__(self):
        self.W1 = rng.normal(size=(4, 16)) * 0.5
        self.b1 = np.zeros(16)
        self.W2 = rng.normal(size=(16, 1)) * 0.5
        self.b2 = np.zeros(1)

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def backward(self, dout):
        self.dW2 = self.h.T @ dout
        self.db2 = dout.sum(axis=0)
        dh = dout @ self.W2.T * (1 - self.h ** 2)
        self.dW1 = self.x.T @ dh
        self.db1 = dh.sum(axis=0)

    def update(self, lr, limit=1.0):
        self.W1 -= lr * np.clip(self.dW1, -limit, limit)
        self.b1 -= lr * np.clip(self.db1, -limit, limit)
        self.W2 -= lr * np.clip(self.dW2, -limit, limit)
        self.b2 -= lr * np.clip(self.db2, -limit, limit)


model = Regressor()
for epoch in range(300):
    out = model.forward(X)
    loss = np.mean((out - y) ** 2)
    model.backward(2 * (out - y) / len(X))
    model.update(0.05)
'''

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(50, 3)) * 4
y = np.sin(X[:, :1]) * 3
clip = 20.0
lr = 0.01
W1 = rng.normal(size=(3, 10)) * 0.5
W2 = rng.normal(size=(10, 1)) * 0.5
for it in range(200):
    z = X @ W1
    a = np.tanh(z)
    out = a @ W2
    loss = 0.5 * np.sum((out - y) ** 2)
    dout = out - y
    dW2 = a.T @ dout
    da = dout @ W2.T
    dz = da * (1 - a ** 2)
    dW1 = X.T @ dz
    W2 -= lr * np.clip(dW2, -clip, clip)
    W1 -= lr * np.clip(dW1, -clip, clip)
'''


def test_a_bound_given_as_a_default_of_the_update_method_is_masked(tmp_path):
    path = write(tmp_path, "regressor.py", MODEL)
    report = check(path)
    assert errors(report) == []
    compared = {p["name"]: p["wrong"] for p in replayed(report)["parameters"]}
    assert compared and not any(compared.values()), compared  # some entries left inside the bound, all right


def test_a_bound_given_as_a_script_variable_is_masked(tmp_path):
    path = write(tmp_path, "script.py", SCRIPT)
    report = check(path)
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "W2"}


def test_a_wrong_gradient_under_a_named_clip_is_still_found_at_its_line(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "    dz = da * (1 - a ** 2)\n", "    dz = da * (1 - a)\n")
    found = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found and found[0]["line"] == line_of(path, "dz = da * (1 - a)")


def test_the_message_shows_the_clip_as_written(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "    dW2 = a.T @ dout\n", "    dW2 = a.T @ dout * 3\n")
    (found,) = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert (found["param"], found["line"]) == ("W2", line_of(path, "dW2 = a.T @ dout * 3"))
    assert "`np.clip(dW2, -clip, clip)`" in found["message"] and "3 × the gradient" in found["message"]
