"""A Nesterov momentum step written as cs231n writes it (`v_prev = v[k].copy(); v[k] = mu * v[k] - lr * g[k];
p[k] += -mu * v_prev + (1 + mu) * v[k]`) moves a parameter: the training loop is replayed (it was
"nothing checked"), with the cost the epoch loop reports on the whole data taken on the minibatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, step_verdicts

DICT = """\
    import numpy as np

    gen = np.random.default_rng(8)
    data = np.tanh(gen.normal(size=(300, 2)) @ gen.normal(size=(2, 6)))
    P = {"A": gen.normal(0, 0.4, (6, 3)), "a": np.zeros(3), "B": gen.normal(0, 0.4, (3, 6)), "b": np.zeros(6)}


    def run(P, x):
        h = np.tanh(x @ P["A"] + P["a"])
        return h @ P["B"] + P["b"], (x, h)


    def cost(out, x):
        return 0.5 * np.sum((out - x) ** 2) / len(x)


    def grads(P, out, keep):
        x, h = keep
        d = (out - x) / len(x)
        g = {"B": h.T @ d, "b": d.sum(axis=0)}
        dz = (d @ P["B"].T) * (1 - h ** 2)
        g["A"] = x.T @ dz
        g["a"] = dz.sum(axis=0)
        return g


    v = {k: np.zeros_like(p) for k, p in P.items()}
    for epoch in range(20):
        for i in range(0, 300, 30):
            xb = data[i:i + 30]
            out, keep = run(P, xb)
            g = grads(P, out, keep)
            for k in P:
                v_prev = v[k].copy()
                v[k] = 0.9 * v[k] - 0.05 * g[k]
                P[k] += -0.9 * v_prev + 1.9 * v[k]
        out, _ = run(P, data)
        if epoch % 5 == 0:
            print(epoch, cost(out, data))
"""

LISTS = """\
    import numpy as np

    np.random.seed(1)
    X = np.random.randn(200, 3)
    T = np.sin(X.sum(axis=1, keepdims=True))
    params = [np.random.randn(3, 10) * 0.5, np.zeros(10), np.random.randn(10, 1) * 0.5, np.zeros(1)]
    velocity = [np.zeros_like(p) for p in params]
    mu, lr = 0.9, 0.02
    for epoch in range(30):
        for s in range(0, 200, 25):
            x, t = X[s:s + 25], T[s:s + 25]
            h = np.tanh(x @ params[0] + params[1])
            y = h @ params[2] + params[3]
            e = 2 * (y - t) / len(x)
            dh = (e @ params[2].T) * (1 - h ** 2)
            grads = [x.T @ dh, dh.sum(axis=0), h.T @ e, e.sum(axis=0)]
            for i in range(4):
                prev = velocity[i].copy()
                velocity[i] = mu * velocity[i] - lr * grads[i]
                params[i] += -mu * prev + (1 + mu) * velocity[i]
        mse = np.mean((np.tanh(X @ params[0] + params[1]) @ params[2] + params[3] - T) ** 2)
"""

CASES = {
    "dict.py": (DICT, 'g["A"] = x.T @ dz', 'g["A"] = x.T @ (d @ P["B"].T)'),
    "lists.py": (LISTS, "grads = [x.T @ dh, dh.sum(axis=0), h.T @ e, e.sum(axis=0)]", "grads = [x.T @ dh, dh.sum(axis=0), 2 * h.T @ e, e.sum(axis=0)]"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_right_nesterov_step_is_replayed_and_right(tmp_path: Path, name: str) -> None:
    report = check(planted(tmp_path, name, CASES[name][0], "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    verdicts = step_verdicts(report)
    assert len(verdicts) == 4 and set(verdicts.values()) == {"ok"}, verdicts


@pytest.mark.parametrize("name", CASES)
def test_a_wrong_gradient_under_a_nesterov_step_is_named_at_its_line(tmp_path: Path, name: str) -> None:
    program, right, wrong = CASES[name]
    path = planted(tmp_path, name, program, right, wrong)
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, wrong), found
