"""A parameter's gradient wrong in some of its columns because an adjoint it is computed from is wrong
(`dz = np.concatenate([dmu, dlogs], axis=1)` with `dlogs` off, then `dW2 = h.T @ dz`): the function's or
layer's own check only measures which columns of the store are wrong; the replayed training step finds the
adjoint. The report leads with that adjoint's line, not with a store that is right as written.

Two styles: a function returning the loss beside a dict of gradients (a Gaussian head's mean and
log-scale), and a layer class whose backward concatenates a gated unit's two adjoints. The twins are clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from userfiles import check, errors, line_of, planted

FUNCTION = """\
import numpy as np


def nll_and_grads(p, X, y):
    n = len(X)
    h = np.tanh(X @ p["W1"] + p["b1"])
    z = h @ p["W2"] + p["b2"]
    mu, logs = z[:, :2], z[:, 2:]
    r = (y - mu) * np.exp(-logs)
    loss = np.sum(0.5 * r ** 2 + logs) / n
    dmu = -r * np.exp(-logs) / n
    dlogs = (1 - r ** 2) / n
    dz = np.concatenate([dmu, dlogs], axis=1)
    g = {"W2": h.T @ dz, "b2": dz.sum(0)}
    dh = dz @ p["W2"].T * (1 - h ** 2)
    g["W1"] = X.T @ dh
    g["b1"] = dh.sum(0)
    return loss, g


rng = np.random.default_rng(1)
X = rng.normal(size=(200, 3))
y = np.stack([X[:, 0] - X[:, 1], np.sin(X[:, 2])], axis=1) + 0.1 * rng.normal(size=(200, 2))
params = {"W1": rng.normal(size=(3, 16)) * 0.5, "b1": np.zeros(16), "W2": rng.normal(size=(16, 4)) * 0.2, "b2": np.zeros(4)}
lr = 0.05
for step in range(300):
    loss, g = nll_and_grads(params, X, y)
    for k in params:
        params[k] -= lr * g[k]
    if step % 60 == 0:
        print(step, loss)
"""

GATED = """\
import numpy as np


class GatedNet:
    def __init__(self, n_in, n_hidden, n_out, rng):
        self.W = rng.normal(size=(n_in, 2 * n_hidden)) / np.sqrt(n_in)
        self.b = np.zeros(2 * n_hidden)
        self.V = rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden)
        self.H = n_hidden

    def forward(self, X):
        self.X = X
        a = X @ self.W + self.b
        self.t = np.tanh(a[:, :self.H])
        self.s = 1 / (1 + np.exp(-a[:, self.H:]))
        self.g = self.t * self.s
        return self.g @ self.V

    def backward(self, dout):
        self.dV = self.g.T @ dout
        dg = dout @ self.V.T
        da_t = dg * self.s * (1 - self.t ** 2)
        da_s = dg * self.t * self.s * (1 - self.s)
        da = np.concatenate([da_t, da_s], axis=1)
        self.dW = self.X.T @ da
        self.db = da.sum(axis=0)


rng = np.random.default_rng(4)
X = rng.normal(size=(180, 4))
Y = np.stack([X[:, 0] * X[:, 1], np.tanh(X[:, 2] - X[:, 3])], axis=1)
net = GatedNet(4, 8, 2, rng)
lr = 0.1
for epoch in range(300):
    out = net.forward(X)
    loss = 0.5 * np.mean(np.sum((out - Y) ** 2, axis=1))
    net.backward((out - Y) / len(X))
    net.W -= lr * net.dW
    net.b -= lr * net.db
    net.V -= lr * net.dV
    if epoch % 50 == 0:
        print(epoch, loss)
"""

CASES = {
    "function-dict": (FUNCTION, "dlogs = (1 - r ** 2) / n", "dlogs = (1 - r) / n"),
    "gated-layer": (GATED, "da_s = dg * self.t * self.s * (1 - self.s)", "da_s = dg * self.t * (1 - self.s)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_leads_with_the_adjoint_the_wrong_columns_come_from(tmp_path: Path, case: str) -> None:
    text, correct, wrong = CASES[case]
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    assert any(f["pattern"] == "some-columns" for f in errors(report)), report["findings"]
    root = report["findings"][report["root_cause"]]
    assert (root["name"], root["line"]) == ("step-gradient-mismatch", line_of(path, wrong)), root


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_correct_program_is_clean(tmp_path: Path, case: str) -> None:
    text, correct, _ = CASES[case]
    path = planted(tmp_path, "train.py", text, correct, correct)
    report = check(path, training=True)
    assert errors(report) == [], report["findings"]
