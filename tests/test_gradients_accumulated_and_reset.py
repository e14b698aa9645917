"""Layers that add their gradients into what the last call left (`self.dW += ...`), as a framework's
`.grad` does, in a program whose training loop empties them with a reset (`opt.zero_grad()`): that is
the design, not a non-reentrant backward (an info note; the first call's gradients are compared). A
reset that only rebinds its loop's name (`for p, g in self.params: g = np.zeros_like(g)`) empties
nothing: that is the error, named at that line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# an optimizer object holding (parameter, gradient) pairs
OPTIMIZER = """\
    import numpy as np

    np.random.seed(8)


    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.3
            self.b = np.zeros(n_out)
            self.dW = np.zeros_like(self.W)
            self.db = np.zeros_like(self.b)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, g):
            self.dW += self.x.T @ g
            self.db += g.sum(axis=0)
            return g @ self.W.T


    class Momentumless:
        def __init__(self, pairs, lr):
            self.pairs, self.lr = pairs, lr

        def zero_grad(self):
            for p, g in self.pairs:
                g[...] = 0.0

        def step(self):
            for p, g in self.pairs:
                p -= self.lr * g


    X = np.random.randn(64, 3)
    Y = X @ np.array([[0.5], [-1.0], [2.0]])
    layer = Dense(3, 1)
    opt = Momentumless([(layer.W, layer.dW), (layer.b, layer.db)], lr=0.1)
    for it in range(100):
        opt.zero_grad()
        pred = layer.forward(X)
        loss = np.mean((pred - Y) ** 2)
        layer.backward(2 * (pred - Y) / len(X))
        opt.step()
"""

# the model resets its layers' gradients itself
MODEL_RESET = """\
    import numpy as np


    class Layer:
        def __init__(self, rs, n_in, n_out):
            self.W = rs.normal(0, 0.5, (n_in, n_out))
            self.gW = np.zeros_like(self.W)

        def forward(self, x):
            self.x = x
            return np.tanh(x @ self.W)

        def backward(self, up):
            self.out = np.tanh(self.x @ self.W)
            local = up * (1 - self.out ** 2)
            self.gW += self.x.T @ local
            return local @ self.W.T


    class Model:
        def __init__(self, rs):
            self.layers = [Layer(rs, 2, 8), Layer(rs, 8, 1)]

        def clear_grads(self):
            for layer in self.layers:
                layer.gW.fill(0.0)


    rs = np.random.default_rng(2)
    X = rs.normal(size=(50, 2))
    T = np.sin(X[:, :1])
    model = Model(rs)
    for epoch in range(60):
        model.clear_grads()
        h = X
        for layer in model.layers:
            h = layer.forward(h)
        err = np.mean((h - T) ** 2)
        up = 2 * (h - T) / len(X)
        for layer in reversed(model.layers):
            up = layer.backward(up)
        for layer in model.layers:
            layer.W -= 0.1 * layer.gW
"""

PROGRAMS = {"optimizer.py": OPTIMIZER, "model.py": MODEL_RESET}


@pytest.mark.parametrize("name", PROGRAMS)
def test_accumulating_layers_a_loop_resets_get_a_note_not_an_error(tmp_path: Path, name: str) -> None:
    report = check(planted(tmp_path, name, PROGRAMS[name], "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    notes = [f for f in report["findings"] if f["name"] == "nonreentrant-backward"]
    assert notes and all(f["severity"] == "info" and f["pattern"] == "accumulated-by-design" for f in notes), notes
    assert [m for m in report["measurements"] if m["param"] in ("W", "b") and m["verdict"] == "ok"], report["measurements"]


def test_a_reset_that_rebinds_its_loop_name_is_the_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "optimizer.py", OPTIMIZER, "g[...] = 0.0", "g = np.zeros_like(g)")
    found = errors(check(path))
    assert found and found[0]["name"] == "nonreentrant-backward" and found[0]["pattern"] == "reset-rebinds-name", found
    assert found[0]["line"] == line_of(path, "g = np.zeros_like(g)"), found[0]


def test_accumulating_layers_with_no_reset_stay_an_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "model.py", MODEL_RESET, "    model.clear_grads()\n", "")
    found = errors(check(path))
    assert any(f["name"] == "nonreentrant-backward" and f["line"] == line_of(path, "self.gW += self.x.T @ local") for f in found), found
