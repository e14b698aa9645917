"""A training step that updates a dict of parameters of any name by walking its keys
(`for name in P: P[name] -= lr * ...`, plain or behind Adam's moments or a velocity) is found as a
training step, so a wrong gradient in the function it calls is named at its line by the replay;
the correct twins are clean and still replayed."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

ADAM = """\
    import numpy as np

    rng = np.random.default_rng(11)
    X = rng.uniform(-2, 2, (160, 2))
    Y = np.sin(X[:, :1]) * np.cos(X[:, 1:])

    P = {"A": rng.standard_normal((2, 20)) * 0.7, "c": np.zeros(20), "B": rng.standard_normal((20, 1)) * 0.3, "d": np.zeros(1)}

    def grads_of(P, X, Y):
        h = np.tanh(X @ P["A"] + P["c"])
        out = h @ P["B"] + P["d"]
        e = (out - Y) / len(X)
        G = {"B": h.T @ e, "d": e.sum(0)}
        dh = (e @ P["B"].T) * (1 - h * h)
        G["A"], G["c"] = X.T @ dh, dh.sum(0)
        return 0.5 * float(np.sum((out - Y) ** 2)) / len(X), G

    def adam_update(P, G, S, lr=0.01, b1=0.9, b2=0.999):
        S["step"] += 1
        n = S["step"]
        for name in P:
            S["m"][name] = b1 * S["m"][name] + (1 - b1) * G[name]
            S["v"][name] = b2 * S["v"][name] + (1 - b2) * G[name] ** 2
            mc = S["m"][name] / (1 - b1 ** n)
            vc = S["v"][name] / (1 - b2 ** n)
            P[name] -= lr * mc / (np.sqrt(vc) + 1e-8)

    S = {"step": 0, "m": {k: np.zeros_like(v) for k, v in P.items()}, "v": {k: np.zeros_like(v) for k, v in P.items()}}
    for i in range(600):
        loss, G = grads_of(P, X, Y)
        adam_update(P, G, S)
        if i % 100 == 0:
            print(i, loss)
"""

MOMENTUM = """\
    import numpy as np

    np.random.seed(5)
    data = np.random.randn(120, 3)
    labels = (data.sum(axis=1, keepdims=True) > 0).astype(float)
    M = {"w1": np.random.randn(3, 8) * 0.5, "w2": np.random.randn(8, 1) * 0.5}
    V = {k: np.zeros_like(a) for k, a in M.items()}

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def backprop(M, x, t):
        a = sigmoid(x @ M["w1"])
        p = sigmoid(a @ M["w2"])
        cost = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        dz2 = (p - t) / len(x)
        da = dz2 @ M["w2"].T
        return cost, {"w2": a.T @ dz2, "w1": x.T @ (da * a * (1 - a))}

    step_size = 0.5
    for epoch in range(200):
        cost, D = backprop(M, data, labels)
        for n in M.keys():
            V[n] = 0.9 * V[n] + D[n]
            M[n] -= step_size * V[n]
        if epoch % 40 == 0:
            print(epoch, cost)
"""

CASES = [
    pytest.param(ADAM, "dh = (e @ P[\"B\"].T) * (1 - h * h)", "dh = (e @ P[\"B\"].T) * (1 - h)", id="adam-over-the-keys-of-P"),
    pytest.param(MOMENTUM, '"w1": x.T @ (da * a * (1 - a))', '"w1": x.T @ (da * (1 - a))', id="velocity-over-M-keys"),
]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_a_wrong_gradient_under_a_key_loop_update_is_found_by_the_step_replay(tmp_path, program, correct, wrong):
    path = planted(tmp_path, "train.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["line"] == line_of(path, wrong.strip()), report["findings"]
    assert any(m["layer"] == "training step" for m in report["measurements"]), report["measurements"]


@pytest.mark.parametrize(("program", "correct", "wrong"), CASES)
def test_the_correct_twins_are_replayed_and_clean(tmp_path, program, correct, wrong):
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    assert not errors(report), errors(report)
    assert "training step" in report["verdict"], report["verdict"]
