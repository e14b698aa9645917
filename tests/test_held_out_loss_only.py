"""A training loop whose only loss is measured on held-out data (`val = mse(w, Xv, yv)`) while its
update reads the training arrays whole (`X`, `y`): the step is checked against the same loss function
on the training arrays, not against the held-out loss, which no update follows (that was a false
BPD108 error on correct code)."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, write

FUNCTION = """\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(160, 4))
w_true = np.array([1.0, -2.0, 0.5, 3.0])
y = X @ w_true + 0.05 * rng.normal(size=160)
Xv = rng.normal(size=(40, 4))
yv = Xv @ w_true


def mse(w, A, b):
    return np.mean((A @ w - b) ** 2)


def train(lr=0.05, epochs=200):
    w = np.zeros(4)
    for epoch in range(epochs):
        w -= lr * 2 * X.T @ (X @ w - y) / len(y)
        val = mse(w, Xv, yv)
        if epoch % 20 == 0:
            print(epoch, val)
    return w


w = train()
"""

SCRIPT = """\
import numpy as np

gen = np.random.default_rng(9)
x = gen.uniform(-1, 1, size=(200, 3))
y = np.tanh(x @ np.array([0.7, -1.2, 0.4]))
xv = gen.uniform(-1, 1, size=(50, 3))
yv = np.tanh(xv @ np.array([0.7, -1.2, 0.4]))


def half_sse(theta, a, b):
    return 0.5 * np.sum((a @ theta - b) ** 2) / len(b)


theta = np.zeros(3)
step = 0.3
for it in range(150):
    theta = theta - step * x.T @ (x @ theta - y) / len(y)
    held = half_sse(theta, xv, yv)
    if it % 30 == 0:
        print(it, held)
"""


def _replayed(report: dict) -> list[dict]:
    return [m for m in report["measurements"] if m["layer"] == "training step"]


def test_a_loop_measuring_only_a_held_out_loss_is_checked_clean(tmp_path: Path) -> None:
    for name, program in (("fit.py", FUNCTION), ("script.py", SCRIPT)):
        report = check(write(tmp_path, name, program))
        assert errors(report) == [], (name, errors(report))
        assert not [f for f in report["findings"] if f["severity"] == "warning"], (name, report["findings"])
        replayed = _replayed(report)
        assert replayed and all(m["verdict"] == "ok" for m in replayed), (name, replayed)


def test_a_wrong_update_beside_a_held_out_loss_is_still_an_error_at_the_update(tmp_path: Path) -> None:
    for name, program, wrong in (
        ("fit.py", FUNCTION, "w -= lr * 2 * X.T @ (X @ w + y) / len(y)"),
        ("script.py", SCRIPT, "theta = theta - step * x.T @ (x @ theta + y) / len(y)"),
    ):
        right = wrong.replace("+ y)", "- y)")
        path = write(tmp_path, name, program.replace(right, wrong))
        found = errors(check(path))
        assert found and found[0]["code"] == "BPD108", (name, found)
        assert found[0]["line"] == line_of(path, wrong), (name, found[0])
