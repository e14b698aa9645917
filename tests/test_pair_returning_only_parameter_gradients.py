"""A forward/backward pair over two weights of one shape whose backward returns only their gradients
(`return dWg, dWe`: the input is data, with no gradient to hand back). Its returned arrays were read in
cs231n's order, the input's gradient first, so `dWg` was compared as the input's and `dWe` as `Wg`'s:
a false alarm on a right pair (the replay of the same program's step found both right). They are read
as one gradient per parameter, in the forward's order."""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

GATE = """\
    import numpy as np


    def gate_forward(x, Wg, We):
        g = 1.0 / (1.0 + np.exp(-(x @ Wg)))
        e = np.tanh(x @ We)
        out = g * e
        cache = (x, g, e)
        return out, cache


    def gate_backward(dout, cache):
        x, g, e = cache
        dzg = dout * e * g * (1 - g)
        dze = dout * g * (1 - e ** 2)
        dWg = x.T @ dzg
        dWe = x.T @ dze
        return dWg, dWe


    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4))
    Y = rng.standard_normal((32, 3)) * 0.3
    Wg = rng.standard_normal((4, 3)) * 0.5
    We = rng.standard_normal((4, 3)) * 0.5
    for it in range(100):
        out, cache = gate_forward(X, Wg, We)
        loss = 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))
        dWg, dWe = gate_backward((out - Y) / len(X), cache)
        Wg -= 0.5 * dWg
        We -= 0.5 * dWe
"""

BILINEAR = """\
    import numpy as np


    def bilinear_forward(x, U, V):
        a, b = x @ U, x @ V
        return a * b, (x, U, V, a, b)


    def bilinear_backward(dout, cache):
        x, U, V, a, b = cache
        dU = x.T @ (dout * b)
        dV = x.T @ (dout * a)
        return dU, dV


    class Model:
        def __init__(self):
            rng = np.random.default_rng(1)
            self.U = rng.standard_normal((5, 2)) * 0.3
            self.V = rng.standard_normal((5, 2)) * 0.3

        def step(self, x, y, lr):
            out, cache = bilinear_forward(x, self.U, self.V)
            loss = np.mean((out - y) ** 2)
            dU, dV = bilinear_backward(2 * (out - y) / out.size, cache)
            self.U -= lr * dU
            self.V -= lr * dV
            return loss


    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 5))
    Y = (X[:, :2] * X[:, 2:4]) * 0.5
    model = Model()
    for epoch in range(50):
        model.step(X, Y, 0.1)
"""


def test_a_gate_pair_returning_its_two_weight_gradients_is_clean(tmp_path):
    path = planted(tmp_path, "gate.py", GATE, "dWe = x.T @ dze", "dWe = x.T @ dze")
    report = check(path)
    assert errors(report) == []
    rows = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "gate"}
    assert rows == {"Wg": "ok", "We": "ok"}


def test_a_wrong_second_weight_gradient_is_named_as_that_weights(tmp_path):
    path = planted(tmp_path, "gate.py", GATE, "dze = dout * g * (1 - e ** 2)", "dze = dout * g * (1 - e)")
    found = [f for f in errors(check(path)) if f["layer"] == "gate"]
    assert found and {f["param"] for f in found} == {"We"}
    assert found[0]["line"] in (line_of(path, "dze = dout * g * (1 - e)"), line_of(path, "dWe = x.T @ dze"))


def test_a_bilinear_pair_returning_only_weight_gradients_is_clean(tmp_path):
    path = planted(tmp_path, "bilinear.py", BILINEAR, "dV = x.T @ (dout * a)", "dV = x.T @ (dout * a)")
    assert errors(check(path)) == []


def test_a_bilinear_pair_with_the_factors_swapped_is_named(tmp_path):
    path = planted(tmp_path, "bilinear.py", BILINEAR, "dV = x.T @ (dout * a)", "dV = x.T @ (dout * b)")
    found = [f for f in errors(check(path)) if f["layer"] == "bilinear"]
    assert found and {f["param"] for f in found} == {"V"} and found[0]["line"] == line_of(path, "dV = x.T @ (dout * b)")
