"""Parameters with names no convention gives them (`U`, `V`), updated as the named ones beside them are.

`net.W -= 0.5 * grads["W"]` is a parameter update by its name alone; `net.U -= 0.5 * grads["U"]`
and `net.V -= 0.5 * grads["V"]` in the same block, written the same way (the same rate times an
entry of the same gradients' dictionary), are parameter updates too, and are checked with it.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, step_verdicts

PROGRAM = """
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(40, 4))
y = (X[:, :1] - X[:, 1:2] > 0).astype(float)


class Net:
    def __init__(self):
        self.U = rng.normal(scale=0.5, size=(4, 6))
        self.W = rng.normal(scale=0.5, size=(6, 5))
        self.V = rng.normal(scale=0.5, size=(5, 1))


def gradients(net, X, y):
    h1 = np.tanh(X @ net.U)
    h2 = np.tanh(h1 @ net.W)
    p = 1 / (1 + np.exp(-(h2 @ net.V)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    ds = (p - y) / len(X)
    dz2 = (ds @ net.V.T) * (1 - h2 ** 2)
    dz1 = (dz2 @ net.W.T) * (1 - h1 ** 2)
    return loss, {"U": X.T @ dz1, "W": h1.T @ dz2, "V": h2.T @ ds}


net = Net()
for epoch in range(300):
    loss, grads = gradients(net, X, y)
    net.U -= 0.5 * grads["U"]
    net.W -= 0.5 * grads["W"]
    net.V -= 0.5 * grads["V"]
"""


def test_every_update_written_like_the_named_ones_is_checked(tmp_path: Path) -> None:
    path = planted(tmp_path, "three_layers.py", PROGRAM, '"U": X.T @ dz1', '"U": X.T @ dz1')
    report = check(path)
    assert errors(report) == []
    assert step_verdicts(report) == {"net.U": "ok", "net.W": "ok", "net.V": "ok"}


def test_a_wrong_gradient_of_a_parameter_named_U_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "three_layers.py", PROGRAM, '"U": X.T @ dz1', '"U": X.T @ dz1 * 2')
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "net.U", line_of(path, '"U": X.T @ dz1 * 2'))
    assert step_verdicts(report) == {"net.U": "mismatch", "net.W": "ok", "net.V": "ok"}
