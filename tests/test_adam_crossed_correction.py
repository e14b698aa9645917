"""Adam written out by hand whose bias correction divides a moment by the other moment's decay
(`v_hat = v / (1 - beta1 ** t)` where `v` averages with `beta2`): named at that line as an error, in a
function that steps a dict of parameters and in an optimizer class; with the right decays, clean."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

FUNCTION = """\
    import numpy as np

    rng = np.random.default_rng(7)
    X = rng.uniform(-2, 2, (200, 1))
    Y = np.sin(2 * X)

    P = {"A": rng.standard_normal((1, 24)) * 0.8, "c": np.zeros(24), "B": rng.standard_normal((24, 1)) * 0.2, "d": np.zeros(1)}

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
    for i in range(800):
        loss, G = grads_of(P, X, Y)
        adam_update(P, G, S)
        if i % 100 == 0:
            print(i, loss)
"""

CLASS = """\
    import numpy as np

    class AdamOpt:
        def __init__(self, lr=0.005, beta1=0.9, beta2=0.999, eps=1e-8):
            self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
            self.m, self.v, self.t = {}, {}, 0

        def update(self, params, grads):
            self.t += 1
            for key, g in grads.items():
                if key not in self.m:
                    self.m[key], self.v[key] = np.zeros_like(g), np.zeros_like(g)
                self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
                self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * (g * g)
                m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    np.random.seed(3)
    X = np.random.randn(150, 4)
    T = (X[:, :1] - X[:, 1:2] > 0).astype(float)
    params = {"W": np.random.randn(4, 1) * 0.1, "b": np.zeros(1)}
    opt = AdamOpt()
    for epoch in range(300):
        p = 1 / (1 + np.exp(-(X @ params["W"] + params["b"])))
        loss = -np.mean(T * np.log(p + 1e-9) + (1 - T) * np.log(1 - p + 1e-9))
        d = (p - T) / len(X)
        opt.update(params, {"W": X.T @ d, "b": d.sum(0)})
        if epoch % 50 == 0:
            print(epoch, loss)
"""

CASES = [
    pytest.param(FUNCTION, 'vc = S["v"][name] / (1 - b2 ** n)', 'vc = S["v"][name] / (1 - b1 ** n)', "b2", id="second-moment-by-beta1-in-a-function"),
    pytest.param(FUNCTION, 'mc = S["m"][name] / (1 - b1 ** n)', 'mc = S["m"][name] / (1 - b2 ** n)', "b1", id="first-moment-by-beta2-in-a-function"),
    pytest.param(CLASS, "v_hat = self.v[key] / (1 - self.beta2 ** self.t)", "v_hat = self.v[key] / (1 - self.beta1 ** self.t)", "self.beta2", id="in-an-optimizer-class"),
]


@pytest.mark.parametrize(("program", "correct", "wrong", "own"), CASES)
def test_a_bias_correction_by_the_other_moments_decay_is_an_error_at_its_line(tmp_path, program, correct, wrong, own):
    path = planted(tmp_path, "train.py", program, correct, wrong)
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["name"] == "adam-step-wrong", report["findings"]
    assert head["line"] == line_of(path, wrong), head
    assert f"divide by `1 - {own} ** " in head["message"], head["message"]


@pytest.mark.parametrize(("program", "correct", "wrong", "own"), CASES)
def test_the_right_corrections_are_clean(tmp_path, program, correct, wrong, own):
    report = check(planted(tmp_path, "train.py", program, correct, correct))
    assert not errors(report), errors(report)
    assert not any(f["name"] == "adam-step-wrong" for f in report["findings"]), report["findings"]
