"""A layer whose forward keeps the samples apart but whose backward sums over the batch axis (a row-wise
operation's Jacobian-vector product reduced with `axis=0`): the batch-coupling it shows is what its wrong
backward does, so the root cause is that layer's own gradient mismatch at the backward's line, not the
coupling, and not the container's backward that only loops over its layers. Correct twins are clean."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

# layer objects in a list, a container looping over them, a centring layer per row
CONTAINER = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out, rng):
            self.W = rng.normal(0, 0.5, (n_in, n_out))
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, g):
            self.gW = self.x.T @ g
            self.gb = g.sum(axis=0)
            return g @ self.W.T


    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, g):
            return g * (1 - self.y ** 2)


    class RowCenter:
        def forward(self, x):
            return x - x.mean(axis=1, keepdims=True)

        def backward(self, g):
            return g - g.mean(axis=1, keepdims=True)


    class Chain:
        def __init__(self, parts):
            self.parts = parts

        def forward(self, x):
            for part in self.parts:
                x = part.forward(x)
            return x

        def backward(self, g):
            for part in self.parts[::-1]:
                g = part.backward(g)
            return g


    rng = np.random.default_rng(4)
    X = rng.normal(size=(64, 3))
    T = np.stack([X[:, 0] - X[:, 1], X[:, 2], -X[:, 0]], axis=1)
    net = Chain([Dense(3, 8, rng), Tanh(), Dense(8, 3, rng), RowCenter()])
    dense = [p for p in net.parts if isinstance(p, Dense)]
    for step in range(60):
        out = net.forward(X)
        loss = np.mean(np.sum((out - T) ** 2, axis=1))
        net.backward(2 * (out - T) / len(X))
        for d in dense:
            d.W -= 0.05 * d.gW
            d.b -= 0.05 * d.gb
    print(loss)
"""

# cs231n-style function pairs, a log-softmax per row
PAIRS = """\
    import numpy as np


    def affine_forward(x, w, b):
        return x @ w + b, (x, w)


    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)


    def logsoftmax_forward(x):
        shifted = x - x.max(axis=1, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return out, out


    def logsoftmax_backward(dout, cache):
        p = np.exp(cache)
        dx = dout - p * dout.sum(axis=1, keepdims=True)
        return dx


    rng = np.random.default_rng(7)
    X = rng.normal(size=(90, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    w = rng.normal(0, 0.1, (4, 3))
    b = np.zeros(3)
    for step in range(80):
        s, c1 = affine_forward(X, w, b)
        lp, c2 = logsoftmax_forward(s)
        loss = -lp[np.arange(len(y)), y].mean()
        dlp = np.zeros_like(lp)
        dlp[np.arange(len(y)), y] = -1.0 / len(y)
        ds = logsoftmax_backward(dlp, c2)
        dx, dw, db = affine_backward(ds, c1)
        w -= 0.5 * dw
        b -= 0.5 * db
    print(loss)
"""

CASES = {
    "chain_center.py": (CONTAINER, "return g - g.mean(axis=1, keepdims=True)", "return g - g.mean(axis=0, keepdims=True)"),
    "pairs_logsoftmax.py": (PAIRS, "dx = dout - p * dout.sum(axis=1, keepdims=True)", "dx = dout - p * dout.sum(axis=0, keepdims=True)"),
}


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


def test_the_layers_gradient_mismatch_is_the_root(tmp_path: Path) -> None:
    for name, (text, correct, wrong) in CASES.items():
        path = planted(tmp_path, name, text, correct, wrong)
        line = line_of(path, wrong)
        report = check(path)
        root = _root(report)
        # the layer's own check, or the replayed step's finding at the same statement
        assert root["name"] in ("gradient-mismatch", "step-gradient-mismatch") and root["line"] == line, (name, root)
        coupling = [f for f in errors(report) if f["name"] == "batch-coupling"]
        assert coupling, name  # the coupling is still reported, as what the wrong backward does
        assert all(f["caused_by"] is not None for f in coupling), (name, coupling)


def test_correct_twins_are_clean(tmp_path: Path) -> None:
    for name, (text, _, _) in CASES.items():
        report = check(planted(tmp_path, name, text, "import numpy", "import numpy"))
        assert errors(report) == [], (name, errors(report))
