"""The step's first wrong gradient is sought from the loss backwards, in the order the backward pass
computes the gradients: a function the step calls (`train_step`) computes the output's gradients
(`d_left`, `d_right`) and only then hands them to another (`net.backward(...)`, `mlp_backward(...)`),
whose own gradients (`dh`) are computed from them. A wrong one in the caller is the first wrong one,
not the right-looking `dh` inside the callee that inherits it."""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

CLASS_STYLE = """
import numpy as np

rng = np.random.default_rng(8)
A = rng.normal(size=(50, 5))
B = A[:, ::-1] + 0.1 * rng.normal(size=(50, 5))


class Tower:
    def __init__(self):
        self.W1 = rng.normal(size=(5, 16)) / np.sqrt(5)
        self.b1 = np.zeros(16)
        self.W2 = rng.normal(size=(16, 3)) / np.sqrt(16)

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W1 + self.b1)
        return self.h @ self.W2

    def backward(self, dout):
        self.dW2 = self.h.T @ dout
        dh = dout @ self.W2.T * (1 - self.h ** 2)
        self.dW1 = self.x.T @ dh
        self.db1 = dh.sum(axis=0)


def train_step(tower, left, right):
    n = len(left)
    out = tower.forward(np.vstack([left, right]))
    e_left, e_right = out[:n], out[n:]
    gap = np.sum((e_left - e_right) ** 2, axis=1)
    d_left = 2 * (e_left - e_right) / n
    d_right = 2 * (e_right - e_left) / n
    tower.backward(np.vstack([d_left, d_right]))
    return gap.mean()


tower = Tower()
for it in range(200):
    loss = train_step(tower, A, B)
    tower.W1 -= 0.05 * tower.dW1
    tower.b1 -= 0.05 * tower.db1
    tower.W2 -= 0.05 * tower.dW2
"""

RIGHT_GAP = "    d_right = 2 * (e_right - e_left) / n"
WRONG_GAP = "    d_right = 2 * (e_left - e_right) / n"

FUNCTION_STYLE = """
import numpy as np


def mlp_forward(p, x):
    z = x @ p["W1"] + p["b1"]
    h = np.maximum(z, 0.0)
    return h @ p["W2"] + p["b2"], (x, z, h)


def mlp_backward(p, cache, dpred):
    x, z, h = cache
    g = {"W2": h.T @ dpred, "b2": dpred.sum(axis=0)}
    dh = dpred @ p["W2"].T
    dz = dh * (z > 0)
    g["W1"] = x.T @ dz
    g["b1"] = dz.sum(axis=0)
    return g


def train_step(p, x, y):
    pred, cache = mlp_forward(p, x)
    cost = np.mean(np.abs(pred - y) ** 2)
    dpred = 2 * (pred - y) / pred.size
    return cost, mlp_backward(p, cache, dpred)


def main():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 4))
    y = np.stack([x[:, 0] * x[:, 1], x[:, 2] - x[:, 3]], axis=1)
    p = {"W1": rng.normal(scale=0.5, size=(4, 12)), "b1": np.full(12, 0.1), "W2": rng.normal(scale=0.5, size=(12, 2)), "b2": np.zeros(2)}
    for epoch in range(150):
        cost, g = train_step(p, x, y)
        for k in p:
            p[k] -= 0.1 * g[k]


main()
"""

RIGHT_PRED = "    dpred = 2 * (pred - y) / pred.size"
WRONG_PRED = "    dpred = 2 * (pred - y) / len(x)"


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "towers.py", CLASS_STYLE, RIGHT_GAP, RIGHT_GAP))) == []
    assert errors(check(planted(tmp_path, "mlp.py", FUNCTION_STYLE, RIGHT_PRED, RIGHT_PRED))) == []


def test_a_wrong_gradient_handed_to_the_networks_backward_is_the_first_wrong_one(tmp_path: Path) -> None:
    path = planted(tmp_path, "towers.py", CLASS_STYLE, RIGHT_GAP, WRONG_GAP)
    (found,) = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert (found["param"], found["line"]) == ("d_right", line_of(path, WRONG_GAP.strip()))
    assert "`d_left` is right" in found["message"] or "`d_left`" in found["message"]


def test_a_wrong_gradient_handed_to_a_backward_function_is_the_first_wrong_one(tmp_path: Path) -> None:
    path = planted(tmp_path, "mlp.py", FUNCTION_STYLE, RIGHT_PRED, WRONG_PRED)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and (found[0]["param"], found[0]["line"]) == ("dpred", line_of(path, WRONG_PRED.strip())), found
