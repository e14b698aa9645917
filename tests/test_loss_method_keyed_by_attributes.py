"""A model whose `loss(X, y)` returns the loss and a dict of gradients keyed by the names of its own
attributes (`self.W1` and `g["W1"]`, no `params` dict), built with sizes only the program knows
(`MLP(2, 64, 3)`), and stepped by a method that writes into each attribute it names at run time
(`getattr(self, k)[...] -= lr * v` over `g.items()`, where `v` is a gradient, not a velocity). The
class is checked as the program built it, on the first samples of its own `loss` call, and the loop is
replayed as a training step, so a gradient the method gets wrong is named at its line, and weights
that start all equal are named as the reason the loss does not fall.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(1)


class MLP:
    def __init__(self, d_in, d_h, d_out):
        self.W1 = rng.normal(0, 0.5, (d_in, d_h))
        self.b1 = np.zeros(d_h)
        self.W2 = rng.normal(0, 0.5, (d_h, d_out))
        self.b2 = np.zeros(d_out)

    def loss(self, X, y):
        z = X @ self.W1 + self.b1
        h = np.tanh(z)
        s = h @ self.W2 + self.b2
        s = s - s.max(1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
        n = len(y)
        loss = -np.log(p[np.arange(n), y]).mean()
        ds = p.copy()
        ds[np.arange(n), y] -= 1
        ds /= n
        g = {"W2": h.T @ ds, "b2": ds.sum(0)}
        dz = (ds @ self.W2.T) * (1 - h ** 2)
        g["W1"] = X.T @ dz
        g["b1"] = dz.sum(0)
        return loss, g

    def step(self, g, lr):
        for k, v in g.items():
            getattr(self, k)[...] -= lr * v


if __name__ == "__main__":
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 0] > 1).astype(int)
    net = MLP(2, 64, 3)
    for i in range(500):
        loss, g = net.loss(X, y)
        net.step(g, lr=0.5)
'''

RIGHT = "        dz = (ds @ self.W2.T) * (1 - h ** 2)\n"


def test_the_class_and_its_loop_are_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "mlp.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "MLP"} == {"W1", "b1", "W2", "b2"}
    assert {p["name"] for p in replayed(report)["parameters"]} == {"net.W1", "net.b1", "net.W2", "net.b2"}


def test_a_wrong_hidden_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "mlp.py", PROGRAM, RIGHT, "        dz = (ds @ self.W2.T) * (1 - h)\n")
    assert errors(check(path))[0]["line"] == line_of(path, "dz = (ds @ self.W2.T) * (1 - h)")


def test_weights_that_start_equal_are_named(tmp_path):
    path = planted(tmp_path, "mlp.py", PROGRAM, "        self.W1 = rng.normal(0, 0.5, (d_in, d_h))\n", "        self.W1 = np.full((d_in, d_h), 0.5)\n")
    path = planted(tmp_path, "mlp.py", path.read_text(), "        self.W2 = rng.normal(0, 0.5, (d_h, d_out))\n", "        self.W2 = np.full((d_h, d_out), 0.1)\n")
    (error,) = errors(check(path))
    assert "units equal" in error["message"]
