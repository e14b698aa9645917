"""A step function that returns the sum of its losses beside the parts (`total, ce, mse, grads =
step(...)`, `tot, data, reg = ...`): the gradients follow the total, which is the loss the step is
replayed against, not the first part named like a loss (which would make every gradient of the
other part look wrong on a correct program)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# two heads on one hidden layer: classification plus a regression, summed
TWO_HEADS = """\
    import numpy as np

    gen = np.random.default_rng(11)
    X = gen.normal(size=(240, 4))
    cls = (X[:, 0] + X[:, 1] > 0).astype(int)
    val = (X[:, 2] * X[:, 3])[:, None]
    P = {"W": gen.normal(0, 0.5, (4, 12)), "A": gen.normal(0, 0.3, (12, 2)), "R": gen.normal(0, 0.3, (12, 1))}


    def step(P, x, c, v, weight=0.3):
        n = len(x)
        h = np.tanh(x @ P["W"])
        s = h @ P["A"]
        r = h @ P["R"]
        s = s - s.max(axis=1, keepdims=True)
        q = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        xent = -np.log(q[np.arange(n), c]).mean()
        sq = ((r - v) ** 2).mean()
        total = xent + weight * sq
        ds = q.copy()
        ds[np.arange(n), c] -= 1
        ds /= n
        dr = weight * 2 * (r - v) / n
        g = {"A": h.T @ ds, "R": h.T @ dr}
        dh = ds @ P["A"].T + dr @ P["R"].T
        g["W"] = x.T @ (dh * (1 - h ** 2))
        return total, xent, sq, g


    for epoch in range(30):
        for i in range(0, 240, 40):
            total, xent, sq, g = step(P, X[i:i + 40], cls[i:i + 40], val[i:i + 40])
            for k in P:
                P[k] -= 0.2 * g[k]
"""

# a regularised regression: data term and penalty returned beside their sum
PENALISED = """\
    import numpy as np

    np.random.seed(3)
    A = np.random.randn(100, 6)
    b = A @ np.random.randn(6) + 0.1 * np.random.randn(100)
    w = np.zeros(6)
    lam = 0.1


    def objective(w):
        resid = A @ w - b
        data_loss = 0.5 * np.mean(resid ** 2)
        penalty = 0.5 * lam * np.sum(w ** 2)
        grad = A.T @ resid / len(b) + lam * w
        return data_loss + penalty, data_loss, penalty, grad


    for it in range(100):
        tot, data_loss, penalty, grad = objective(w)
        w -= 0.1 * grad
"""

PROGRAMS = {"heads.py": TWO_HEADS, "ridge.py": PENALISED}


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_right_step_is_replayed_against_the_total(tmp_path: Path, name: str) -> None:
    report = check(planted(tmp_path, name, PROGRAMS[name], "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    verdicts = [m["verdict"] for m in report["measurements"] if m["layer"] == "training step"]
    assert verdicts and set(verdicts) == {"ok"}, report["measurements"]


def test_a_head_left_out_of_the_shared_gradient_is_named_at_that_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "heads.py", TWO_HEADS, 'dh = ds @ P["A"].T + dr @ P["R"].T', 'dh = ds @ P["A"].T')
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, 'dh = ds @ P["A"].T'), found
    assert "`total`" in found[0]["message"], found[0]["message"]


def test_a_penalty_left_out_of_the_gradient_is_found(tmp_path: Path) -> None:
    path = planted(tmp_path, "ridge.py", PENALISED, "grad = A.T @ resid / len(b) + lam * w", "grad = A.T @ resid / len(b)")
    found = errors(check(path))
    assert found and found[0]["param"] == "w", found
