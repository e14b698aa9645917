"""A model whose backward returns its parameters' gradients in a dict it makes in the `return`
itself (`return dict(W1=dW1, ...)`, `return {"W1": dW1, ...}`) has no input gradient: it is not
checked as a layer (whose dx would be that dict), but through the training step that updates
with those gradients, where a wrong one is named at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# a recurrent model, gradients by keyword, the update walking the dict with getattr
KEYWORDS = """\
    import numpy as np

    np.random.seed(7)


    class Recurrent:
        def __init__(self, n_hidden):
            self.U = np.random.randn(1, n_hidden) * 0.5
            self.V = np.random.randn(n_hidden, n_hidden) * 0.2
            self.w = np.random.randn(n_hidden, 1) * 0.5

        def forward(self, xs):
            self.xs = xs
            self.states = [np.zeros((xs.shape[0], self.V.shape[0]))]
            for t in range(xs.shape[1]):
                self.states.append(np.tanh(xs[:, t] @ self.U + self.states[-1] @ self.V))
            return self.states[-1] @ self.w

        def backward(self, dout):
            dU, dV = np.zeros_like(self.U), np.zeros_like(self.V)
            dw = self.states[-1].T @ dout
            carry = dout @ self.w.T
            for t in reversed(range(self.xs.shape[1])):
                s = self.states[t + 1]
                dpre = carry * (1 - s ** 2)
                dU += self.xs[:, t].T @ dpre
                dV += self.states[t].T @ dpre
                carry = dpre @ self.V.T
            return dict(U=dU, V=dV, w=dw)


    model = Recurrent(8)
    for step in range(200):
        xs = np.random.randn(16, 6, 1)
        target = xs.sum(axis=1) * 0.3
        pred = model.forward(xs)
        loss = np.mean((pred - target) ** 2)
        grads = model.backward(2 * (pred - target) / pred.size)
        for name, g in grads.items():
            getattr(model, name)[...] -= 0.05 * g
"""

# a feed-forward model, a dict literal returned, the update by key
LITERAL = """\
    import numpy as np


    class TwoLayer:
        def __init__(self, rs):
            self.W1 = rs.normal(0, 0.4, (4, 10))
            self.b1 = np.zeros(10)
            self.W2 = rs.normal(0, 0.4, (10, 3))

        def forward(self, X):
            self.X = X
            self.h = np.maximum(0, X @ self.W1 + self.b1)
            return self.h @ self.W2

        def backward(self, dscores):
            dh = dscores @ self.W2.T
            dh[self.h <= 0] = 0
            return {"W1": self.X.T @ dh, "b1": dh.sum(axis=0), "W2": self.h.T @ dscores}


    rs = np.random.default_rng(5)
    X = rs.normal(size=(150, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    net = TwoLayer(rs)
    for it in range(150):
        scores = net.forward(X)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(150), y]).mean()
        d = p.copy()
        d[np.arange(150), y] -= 1
        grads = net.backward(d / 150)
        for key in ("W1", "b1", "W2"):
            setattr(net, key, getattr(net, key) - 0.5 * grads[key])
"""

PROGRAMS = {"recurrent.py": KEYWORDS, "twolayer.py": LITERAL}


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_right_model_gets_no_finding_and_its_step_is_checked(tmp_path: Path, name: str) -> None:
    report = check(planted(tmp_path, name, PROGRAMS[name], "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    assert not any(f["name"] == "bad-return" for f in report["findings"]), report["findings"]
    verdicts = [m["verdict"] for m in report["measurements"] if m["layer"] == "training step"]
    assert verdicts and set(verdicts) == {"ok"}, report["measurements"]


def test_a_wrong_recurrent_gradient_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "recurrent.py", KEYWORDS, "dV += self.states[t].T @ dpre", "dV += self.states[t + 1].T @ dpre")
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, "dV += self.states[t + 1].T @ dpre"), found


def test_a_wrong_entry_of_the_returned_literal_is_found(tmp_path: Path) -> None:
    path = planted(tmp_path, "twolayer.py", LITERAL, "dh[self.h <= 0] = 0", "dh[self.h < 0] = 1")
    found = errors(check(path))
    assert found and {f["param"] for f in found} & {"net.W1", "net.b1", "dh"}, found
