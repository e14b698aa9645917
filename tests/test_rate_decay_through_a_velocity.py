"""A rate decayed on every minibatch that reaches the weights through a momentum velocity written as
an assignment (`vel[k] = mu * vel[k] - lr * g[k]` then `p[k] += vel[k]`, or `v = mu * v + lr * g`
then `w -= v`): the schedule is read through the velocity, as it is for `v -= lr * g`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

DICT_VELOCITY = """\
    import numpy as np

    rng = np.random.default_rng(3)
    X = rng.normal(size=(1600, 4))
    y = (X[:, 0] - X[:, 2] > 0).astype(float)[:, None]
    P = {"w": np.zeros((4, 1)), "c": np.zeros(1)}
    vel = {k: np.zeros_like(v) for k, v in P.items()}
    lr, decay, mu = 0.2, 0.9, 0.9
    for epoch in range(12):
        for i in range(0, 1600, 32):
            xb, yb = X[i:i + 32], y[i:i + 32]
            p = 1 / (1 + np.exp(-(xb @ P["w"] + P["c"])))
            loss = -np.mean(yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9))
            g = {"w": xb.T @ (p - yb) / 32, "c": (p - yb).mean(axis=0)}
            for k in P:
                vel[k] = mu * vel[k] - lr * g[k]
                P[k] += vel[k]
        lr *= decay
"""

PLAIN_VELOCITY = """\
    import numpy as np

    np.random.seed(0)
    A = np.random.randn(2000, 3)
    t = A @ np.array([[1.0], [2.0], [-1.0]])
    w = np.zeros((3, 1))
    v = np.zeros_like(w)
    step_size, gamma = 0.05, 0.8
    for epoch in range(10):
        for s in range(0, 2000, 20):
            a, b = A[s:s + 20], t[s:s + 20]
            err = a @ w - b
            cost = np.mean(err ** 2)
            grad = 2 * a.T @ err / 20
            v = gamma * v + step_size * grad
            w -= v
        step_size *= 0.9
"""

CASES = {
    "dict.py": (DICT_VELOCITY, "        lr *= decay\n", "            lr *= decay\n", "lr *= decay"),
    "plain.py": (PLAIN_VELOCITY, "        step_size *= 0.9\n", "            step_size *= 0.9\n", "step_size *= 0.9"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_decay_once_per_epoch_is_clean(tmp_path: Path, name: str) -> None:
    report = check(planted(tmp_path, name, CASES[name][0], "import numpy as np", "import numpy as np"), training=True)
    assert errors(report) == [] and not [f for f in report["findings"] if f["name"] == "step-rate-vanishes"], report["findings"]


@pytest.mark.parametrize("name", CASES)
def test_a_decay_on_every_minibatch_is_named(tmp_path: Path, name: str) -> None:
    program, right, wrong, at = CASES[name]
    path = planted(tmp_path, name, program, right.replace("    ", "", 1), wrong.replace("    ", "", 1))
    found = [f for f in check(path, training=True)["findings"] if f["name"] == "step-rate-vanishes"]
    assert found and found[0]["line"] == line_of(path, at), found
