"""A gradient made as zeros and filled in place by `np.add.at(dE, ids, rows)` (an embedding's rows,
a scatter over indices) is computed where it is filled, not where the zeros are made: a wrong
scatter is named at the `np.add.at` line, in the training loop and inside a function it calls.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

# 埋め込み + 線形回帰: 単語 ID 列の平均ベクトルから値を予測する
rng = np.random.default_rng(3)
V, D, N, L = 30, 6, 120, 4
ids = rng.integers(0, V, (N, L))
target = np.sin(ids.sum(axis=1) / 10.0)
E = rng.normal(scale=0.3, size=(V, D))
w = rng.normal(scale=0.3, size=D)
for epoch in range(300):
    h = E[ids].mean(axis=1)
    pred = h @ w
    loss = np.mean((pred - target) ** 2)
    dpred = 2 * (pred - target) / N
    dw = h.T @ dpred
    dh = np.outer(dpred, w)
    dE = np.zeros_like(E)
    np.add.at(dE, ids, dh[:, None, :] / L)
    E -= 0.5 * dE
    w -= 0.5 * dw
    if epoch % 100 == 0:
        print(epoch, loss)
'''

FILL = "    np.add.at(dE, ids, dh[:, None, :] / L)\n"
WRONG = "    np.add.at(dE, ids[:, ::-1], dh[:, None, :] * np.arange(1, L + 1)[None, :, None] / L)\n"


def _in_a_function(text: str) -> str:
    """The same step with its forward and backward pass in a function the loop calls."""
    body = text.split("for epoch in range(300):\n", 1)[1]
    lines = body.splitlines(keepends=True)
    pass_lines = [line for line in lines if not line.startswith(("    E -=", "    w -=", "    if epoch", "        print"))]
    function = "def step(E, w):\n" + "".join(pass_lines) + "    return loss, dE, dw\n\n\n"
    loop = "for epoch in range(300):\n    loss, dE, dw = step(E, w)\n    E -= 0.5 * dE\n    w -= 0.5 * dw\n    if epoch % 100 == 0:\n        print(epoch, loss)\n"
    return text.split("for epoch in range(300):\n", 1)[0] + function + loop


@pytest.mark.parametrize("shape", ["loop", "function"])
def test_a_wrong_scatter_is_named_where_it_fills_the_gradient(tmp_path, shape):
    text = SCRIPT if shape == "loop" else _in_a_function(SCRIPT)
    assert errors(check(planted(tmp_path, "ok.py", text, FILL, FILL))) == []
    path = planted(tmp_path, "bug.py", text, FILL, WRONG)
    assert errors(check(path))[0]["line"] == line_of(path, "np.add.at(dE")
