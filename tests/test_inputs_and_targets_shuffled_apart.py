"""Inputs and targets each shuffled by an order of its own (`X = X[np.random.permutation(N)]` beside
`y = y[np.random.permutation(N)]`, or `np.random.shuffle(X)` beside `np.random.shuffle(y)`), then
split or batched together: every input is trained on another's target. Named at the second shuffle,
with one permutation to draw; two shuffles after the same seed draw one order and are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# a split into training and held-out data after the shuffle, inline permutations
SPLIT = """\
    import numpy as np

    np.random.seed(4)
    N = 600
    X = np.random.uniform(-1, 1, (N, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    order = np.random.permutation(N)
    X, y = X[order], y[order]
    X_tr, y_tr = X[:500], y[:500]

    W = np.zeros((2, 2))
    b = np.zeros(2)
    for it in range(200):
        s = X_tr @ W + b
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(500), y_tr]).mean()
        p[np.arange(500), y_tr] -= 1
        p /= 500
        W -= 0.5 * X_tr.T @ p
        b -= 0.5 * p.sum(axis=0)
"""

# in-place shuffles, then minibatches taken the same way from both
IN_PLACE = """\
    import numpy as np

    rng = np.random.RandomState(1)
    data = rng.randn(400, 3)
    labels = (data @ np.array([1.0, -1.0, 0.5]) > 0).astype(float)[:, None]
    rng.seed(7)
    rng.shuffle(data)
    rng.seed(7)
    rng.shuffle(labels)

    w = np.zeros((3, 1))
    lr = 0.5
    for epoch in range(20):
        for k in range(0, 400, 40):
            xb, yb = data[k:k + 40], labels[k:k + 40]
            p = 1 / (1 + np.exp(-(xb @ w)))
            loss = -np.mean(yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9))
            w -= lr * xb.T @ (p - yb) / len(xb)
"""

CASES = {
    "split.py": (SPLIT, "X, y = X[order], y[order]\n", "X = X[np.random.permutation(N)]\ny = y[np.random.permutation(N)]\n", "y = y[np.random.permutation(N)]"),
    "in_place.py": (IN_PLACE, "rng.seed(7)\nrng.shuffle(labels)\n", "rng.shuffle(labels)\n", "rng.shuffle(labels)"),
}


@pytest.mark.parametrize("name", CASES)
def test_one_order_for_both_is_clean(tmp_path: Path, name: str) -> None:
    program = CASES[name][0]
    report = check(planted(tmp_path, name, program, "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)


@pytest.mark.parametrize("name", CASES)
def test_two_orders_are_named_at_the_second(tmp_path: Path, name: str) -> None:
    program, right, wrong, at = CASES[name]
    path = planted(tmp_path, name, program, right, wrong)
    found = errors(check(path))
    assert found and found[0]["name"] == "targets-not-shuffled", found
    assert found[0]["line"] == line_of(path, at) and "one permutation" in found[0]["message"], found[0]
