"""Programs that label their toy data by the distances to a few landmarks with SciPy's `cdist`, and
plot it on a row of axes (`fig, (ax1, ax2) = plt.subplots(1, 2)`), with SciPy and matplotlib
missing: `cdist` is computed by NumPy, the row of axes unpacks, and the program reaches its
training loop, whose step is checked."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, write

PROGRAM = '''\
import matplotlib.pyplot as plt
import numpy as np
{imports}

rng = np.random.RandomState(0)
X = rng.rand(200, 2)
landmarks = rng.rand(4, 2)
nearest = np.argmin({cdist}(X, landmarks, metric="euclidean"), axis=1)
Y = np.eye(4)[nearest]

fig, (ax1, ax2) = plt.subplots(1, 2)
ax1.scatter(X[:, 0], X[:, 1], c=nearest)
ax2.scatter(landmarks[:, 0], landmarks[:, 1], marker="*")
plt.show()

W1 = rng.normal(scale=0.5, size=(2, 16))
b1 = np.zeros(16)
W2 = rng.normal(scale=0.5, size=(16, 4))
b2 = np.zeros(4)
lr = 0.5

for epoch in range(20):
    for start in range(0, len(X), 20):
        xb, yb = X[start:start + 20], Y[start:start + 20]
        h = np.tanh(xb @ W1 + b1)
        out = 1 / (1 + np.exp(-(h @ W2 + b2)))
        delta_out = (out - yb) * out * (1 - out) / len(xb)
        delta_h = delta_out @ W2.T * (1 - h ** 2)
        W2 -= lr * h.T @ delta_out
        b2 -= lr * delta_out.sum(axis=0)
        W1 -= lr * xb.T @ delta_h
        b1 -= lr * delta_h.sum(axis=0)
'''

STYLES = {
    "from-import": ("from scipy.spatial.distance import cdist", "cdist"),
    "module": ("from scipy.spatial import distance", "distance.cdist"),
}


def _program(style: str) -> str:
    imports, call = STYLES[style]
    return PROGRAM.format(imports=imports, cdist=call)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_the_program_runs_past_cdist_and_the_row_of_axes_and_its_step_is_checked(tmp_path, style):
    report = check(write(tmp_path, "landmarks.py", _program(style)))
    assert not any(f["name"] == "program-stopped" for f in report["findings"])
    assert any("cdist" in f["message"] for f in report["findings"] if f["name"] == "missing-module")
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "b1", "W2", "b2"}


def test_a_hidden_delta_without_the_tanh_derivative_is_found_at_its_line(tmp_path):
    correct = "delta_h = delta_out @ W2.T * (1 - h ** 2)"
    path = planted(tmp_path, "landmarks.py", _program("from-import"), correct, "delta_h = delta_out @ W2.T")
    found = errors(check(path))
    assert found and line_of(path, "delta_h = delta_out @ W2.T") in {f["line"] for f in found}
