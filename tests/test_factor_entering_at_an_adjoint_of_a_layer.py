"""A constant factor (or a flipped sign) that enters a layer's backward at an adjoint several gradients are computed from
(`dh = ... / set_size` before `dW1`, `db1`): the layer's own check only measures each of those
gradients as the same factor off at its store; the replayed training step finds the adjoint that first
carries it. The report leads with that adjoint's line, not with a store that is right as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from userfiles import check, errors, line_of, planted

SUM_POOLING = """
import numpy as np


class SetModel:
    def __init__(self, d_in, hidden, rng):
        self.W1 = rng.normal(0.0, np.sqrt(2.0 / d_in), (d_in, hidden))
        self.b1 = np.zeros(hidden)
        self.w2 = rng.normal(0.0, 0.5, hidden)
        self.b2 = 0.0

    def forward(self, X):
        self.X = X
        self.z = X @ self.W1 + self.b1
        self.h = np.tanh(self.z)
        self.pool = self.h.sum(axis=1)
        return self.pool @ self.w2 + self.b2

    def backward(self, dout):
        self.dw2 = self.pool.T @ dout
        self.db2 = dout.sum()
        dpool = dout[:, None] * self.w2[None, :]
        dh = np.broadcast_to(dpool[:, None, :], self.h.shape)
        dz = dh * (1.0 - self.h ** 2)
        self.dW1 = np.einsum("nsi,nsh->ih", self.X, dz)
        self.db1 = dz.sum(axis=(0, 1))

    def step(self, lr):
        self.W1 -= lr * self.dW1
        self.b1 -= lr * self.db1
        self.w2 -= lr * self.dw2
        self.b2 -= lr * self.db2


rng = np.random.default_rng(2)
X = rng.uniform(-1.5, 1.5, (200, 8, 2))
y = np.sqrt((X ** 2).sum(axis=2)).sum(axis=1)
model = SetModel(2, 16, rng)
for epoch in range(100):
    pred = model.forward(X)
    loss = np.mean((pred - y) ** 2)
    model.backward(2.0 * (pred - y) / len(y))
    model.step(0.002)
    if epoch % 25 == 0:
        print(epoch, loss)
"""

MEAN_POOLING = """
import numpy as np


class MeanPooled:
    def __init__(self, d_in, hidden, rng):
        self.W1 = rng.normal(0.0, np.sqrt(2.0 / d_in), (d_in, hidden))
        self.b1 = np.zeros(hidden)
        self.w2 = rng.normal(0.0, 0.5, hidden)
        self.b2 = 0.0

    def forward(self, X):
        self.X = X
        self.z = X @ self.W1 + self.b1
        self.h = np.maximum(self.z, 0.0)
        self.pool = self.h.mean(axis=1)
        return self.pool @ self.w2 + self.b2

    def backward(self, dout):
        self.dw2 = self.pool.T @ dout
        self.db2 = dout.sum()
        dpool = dout[:, None] * self.w2[None, :]
        dh = np.repeat(dpool[:, None, :] / self.h.shape[1], self.h.shape[1], axis=1)
        dz = dh * (self.z > 0)
        self.dW1 = np.einsum("nsi,nsh->ih", self.X, dz)
        self.db1 = dz.sum(axis=(0, 1))

    def step(self, lr):
        self.W1 -= lr * self.dW1
        self.b1 -= lr * self.db1
        self.w2 -= lr * self.dw2
        self.b2 -= lr * self.db2


rng = np.random.default_rng(2)
X = rng.uniform(-1.5, 1.5, (200, 8, 2))
y = np.sqrt((X ** 2).sum(axis=2)).sum(axis=1)
model = MeanPooled(2, 16, rng)
for epoch in range(100):
    pred = model.forward(X)
    loss = np.mean((pred - y) ** 2)
    model.backward(2.0 * (pred - y) / len(y))
    model.step(0.05)
    if epoch % 25 == 0:
        print(epoch, loss)
"""

CASES = {
    "sum pooling": (SUM_POOLING, "dh = np.broadcast_to(dpool[:, None, :], self.h.shape)", "dh = np.broadcast_to(dpool[:, None, :] / self.X.shape[1], self.h.shape)"),
    "mean pooling": (MEAN_POOLING, "dh = np.repeat(dpool[:, None, :] / self.h.shape[1], self.h.shape[1], axis=1)", "dh = np.repeat(dpool[:, None, :], self.h.shape[1], axis=1)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_leads_with_the_adjoint_that_carries_the_factor(tmp_path: Path, case: str) -> None:
    text, correct, wrong = CASES[case]
    path = planted(tmp_path, "model.py", text, correct, wrong)
    report = check(path, training=True)
    assert errors(report), report["findings"]
    root = report["findings"][report["root_cause"]]
    assert root["line"] == line_of(path, wrong.split(" = ")[0].strip() + " = "), root


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_correct_model_is_clean(tmp_path: Path, case: str) -> None:
    text, _, _ = CASES[case]
    path = planted(tmp_path, "model.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert errors(report) == [], report["findings"]
