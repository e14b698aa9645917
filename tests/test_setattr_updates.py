"""Parameters updated through `setattr(self, name, getattr(self, name) - lr * g)` over a dict of
gradients keyed by attribute name are the training step's updates; a learning rate far below any
usual one is tried up to 0.1 when ten and a hundred times it do not move the loss."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

PROGRAM = '''\
import numpy as np


class Net:
    def __init__(self, sizes, seed=3):
        r = np.random.RandomState(seed)
        self.Wa = r.randn(sizes[0], sizes[1]) / np.sqrt(sizes[0])
        self.ba = np.zeros(sizes[1])
        self.Wb = r.randn(sizes[1], sizes[2]) / np.sqrt(sizes[1])
        self.bb = np.zeros(sizes[2])

    def loss_and_grads(self, X, T):
        h = np.tanh(X @ self.Wa + self.ba)
        Y = h @ self.Wb + self.bb
        loss = 0.5 * np.mean(np.sum((Y - T) ** 2, axis=1))
        dY = (Y - T) / len(X)
        dh = dY @ self.Wb.T * (1 - h ** 2)
        return loss, {"Wa": X.T @ dh, "ba": dh.sum(0), "Wb": h.T @ dY, "bb": dY.sum(0)}

    def train(self, X, T, step=0.1, rounds=400):
        for r in range(rounds):
            loss, grads = self.loss_and_grads(X, T)
            for attr, g in grads.items():
                setattr(self, attr, getattr(self, attr) - step * g)
        return loss


rng = np.random.RandomState(5)
X = rng.randn(100, 4)
T = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
Net([4, 12, 2]).train(X, T)
'''


def test_setattr_updates_are_replayed(tmp_path):
    report = check(write(tmp_path, "net.py", PROGRAM))
    assert errors(report) == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"self.Wa": False, "self.ba": False, "self.Wb": False, "self.bb": False}


def test_a_wrong_gradient_updated_by_setattr_is_found(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, "dh = dY @ self.Wb.T * (1 - h ** 2)", "dh = dY @ self.Wb.T * (1 - h)")
    found = errors(check(path))
    assert found and found[0]["name"] == "step-gradient-mismatch"
    assert found[0]["line"] == line_of(path, "dh = dY @ self.Wb.T")


def test_a_rate_far_too_small_gets_a_usual_one(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, "step=0.1, rounds=400", "step=1e-7, rounds=400")
    (finding,) = [f for f in check(path, training=True)["findings"] if f["name"] == "step-rate-too-low"]
    tried = float(finding["fix"].split("=")[1])
    assert 1e-4 <= tried <= 0.1
