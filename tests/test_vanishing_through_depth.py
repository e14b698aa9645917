"""A deep stack of sigmoid layers whose gradient is right but vanishes before it reaches the first
layers: the cannot-fit finding says the gradient vanishes, naming the first and last weight matrices
and how many times smaller the first one's gradient is. The same programs with one hidden layer are clean."""

from __future__ import annotations

import re

import pytest

from userfiles import check, errors, planted

LIST_OF_DICTS = """\
    import numpy as np

    gen = np.random.RandomState(21)
    X = gen.uniform(-1, 1, (300, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)

    widths = [2] + [12] * 9 + [1]
    layers = [{"W": gen.randn(a, b) / np.sqrt(a), "b": np.zeros(b)} for a, b in zip(widths[:-1], widths[1:])]

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    for epoch in range(600):
        acts = [X]
        for L in layers:
            acts.append(sig(acts[-1] @ L["W"] + L["b"]))
        p = np.clip(acts[-1], 1e-9, 1 - 1e-9)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        g = (acts[-1] - y) / len(X)
        for k in range(len(layers) - 1, -1, -1):
            gW, gb = acts[k].T @ g, g.sum(axis=0)
            if k > 0:
                g = (g @ layers[k]["W"].T) * acts[k] * (1 - acts[k])
            layers[k]["W"] -= 1.0 * gW
            layers[k]["b"] -= 1.0 * gb
        if epoch % 100 == 0:
            print(epoch, loss)
"""

CLASS = """\
    import numpy as np

    class Deep:
        def __init__(self, sizes, seed=3):
            r = np.random.default_rng(seed)
            self.Ws = [r.normal(0, 1 / np.sqrt(m), (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
            self.bs = [np.zeros((1, n)) for n in sizes[1:]]

        def forward(self, x):
            self.hs = [x]
            for W, b in zip(self.Ws, self.bs):
                self.hs.append(1 / (1 + np.exp(-(self.hs[-1] @ W + b))))
            return self.hs[-1]

        def backward(self, t):
            d = (self.hs[-1] - t) * self.hs[-1] * (1 - self.hs[-1]) / len(t)
            dWs, dbs = [], []
            for i in reversed(range(len(self.Ws))):
                dWs.insert(0, self.hs[i].T @ d)
                dbs.insert(0, d.sum(axis=0, keepdims=True))
                d = (d @ self.Ws[i].T) * self.hs[i] * (1 - self.hs[i])
            return dWs, dbs

    r = np.random.default_rng(0)
    X = r.standard_normal((200, 3))
    T = (np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:] > 0).astype(float)
    net = Deep([3] + [10] * 10 + [1])
    for step in range(500):
        out = net.forward(X)
        dWs, dbs = net.backward(T)
        for i in range(len(net.Ws)):
            net.Ws[i] -= 2.0 * dWs[i]
            net.bs[i] -= 2.0 * dbs[i]
        if step % 100 == 0:
            print(step, 0.5 * np.mean((out - T) ** 2))
"""

CASES = [
    pytest.param(LIST_OF_DICTS, "[12] * 9", "[12] * 1", id="list-of-layer-dicts-in-a-script"),
    pytest.param(CLASS, "[10] * 10", "[10] * 1", id="class-with-lists-of-weights"),
]


@pytest.mark.parametrize(("program", "deep", "shallow"), CASES)
def test_a_deep_sigmoid_stack_that_cannot_fit_says_its_gradient_vanishes(tmp_path, program, deep, shallow):
    report = check(planted(tmp_path, "deep.py", program, deep, deep), training=True)
    assert not errors(report), errors(report)
    (stuck,) = [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]
    assert "gradient vanishes" in stuck["message"], stuck["message"]
    times = float(re.search(r"is ([0-9.e+]+) times smaller", stuck["message"]).group(1))
    assert times >= 1e3, stuck["message"]


@pytest.mark.parametrize(("program", "deep", "shallow"), CASES)
def test_the_same_network_with_one_hidden_layer_is_clean(tmp_path, program, deep, shallow):
    report = check(planted(tmp_path, "shallow.py", program, deep, shallow), training=True)
    assert not errors(report), errors(report)
    assert not any("vanish" in f["message"] for f in report["findings"]), report["findings"]
