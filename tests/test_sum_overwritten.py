"""A sum a loop should add to but overwrites (`s = 0.0`, then `for k ...: s = w[j][k] * d[k]`):
the gradients computed from it are named at the overwriting line, with `+=` as the fix."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

PROGRAM = '''\
import math
import random

random.seed(4)
DATA = [([0.0, 0.0], [0.1, 0.9]), ([0.0, 1.0], [0.9, 0.1]), ([1.0, 0.0], [0.9, 0.1]), ([1.0, 1.0], [0.1, 0.9])]
H = 4
w1 = [[random.uniform(-1, 1) for _ in range(H)] for _ in range(2)]
w2 = [[random.uniform(-1, 1) for _ in range(2)] for _ in range(H)]


def sig(v):
    return 1 / (1 + math.exp(-v))


def forward(x):
    h = [sig(sum(x[i] * w1[i][j] for i in range(2))) for j in range(H)]
    o = [sig(sum(h[j] * w2[j][k] for j in range(H))) for k in range(2)]
    return h, o


def grads():
    g1 = [[0.0] * H for _ in range(2)]
    g2 = [[0.0] * 2 for _ in range(H)]
    for x, t in DATA:
        h, o = forward(x)
        do = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
        for j in range(H):
            back = 0.0
            for k in range(2):
                back += w2[j][k] * do[k]
            for k in range(2):
                g2[j][k] += h[j] * do[k]
            for i in range(2):
                g1[i][j] += x[i] * back * h[j] * (1 - h[j])
    return g1, g2


for epoch in range(2000):
    loss = sum(0.5 * (o - tk) ** 2 for x, t in DATA for o, tk in zip(forward(x)[1], t))
    g1, g2 = grads()
    for i in range(2):
        for j in range(H):
            w1[i][j] -= 0.5 * g1[i][j]
    for j in range(H):
        for k in range(2):
            w2[j][k] -= 0.5 * g2[j][k]
'''


def test_a_sum_added_to_is_clean(tmp_path):
    report = check(write(tmp_path, "lists.py", PROGRAM))
    assert errors(report) == []
    verdicts = step_verdicts(report)
    assert len(verdicts) >= 8 and set(verdicts.values()) == {"ok"}


def test_a_sum_overwritten_in_its_loop_is_named_there(tmp_path):
    path = planted(tmp_path, "lists.py", PROGRAM, "back += w2[j][k] * do[k]", "back = w2[j][k] * do[k]")
    found = errors(check(path))
    assert found and found[0]["pattern"] == "sum-overwritten"
    assert found[0]["line"] == line_of(path, "back = w2[j][k] * do[k]")
    assert "write `back += ...`" in found[0]["message"]
