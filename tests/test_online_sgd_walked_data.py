"""Online SGD: each pass steps on one sample and its loss is that sample's alone, so the replayed
curve jumps from one sample's loss to the next's. Whether the rate is too high is judged on the
loss of the same data before and after the passes (`replay.curve.walked`), never on that jumping
curve; a rate that truly overshoots still gets `step-rate-too-high`."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, planted

RATE = "step-rate-too-high"

SCRIPT = """
import numpy as np

rng = np.random.default_rng(7)
X = rng.random((200, 4))
Y = 2.0 * X[:, 0] - X[:, 1] + X[:, 2] * X[:, 3] + 0.5
W1 = rng.standard_normal((4, 8)) * 0.5
b1 = np.zeros(8)
W2 = rng.standard_normal(8) * 0.5
b2 = 0.0
lr = 0.05
for epoch in range(20):
    for i in range(len(X)):
        x, y = X[i], Y[i]
        h = np.tanh(x @ W1 + b1)
        p = h @ W2 + b2
        err = p - y
        loss = 0.5 * err ** 2
        dh = err * W2 * (1 - h ** 2)
        W2 -= lr * err * h
        b2 -= lr * err
        W1 -= lr * np.outer(x, dh)
        b1 -= lr * dh
"""

CLASSIFIER = """
import numpy as np


class Net:
    def __init__(self, rng):
        self.W1 = rng.standard_normal((2, 12)) * 0.5
        self.b1 = np.zeros(12)
        self.W2 = rng.standard_normal((12, 3)) * 0.5
        self.b2 = np.zeros(3)

    def train(self, x, y, lr):
        h = np.tanh(x @ self.W1 + self.b1)
        z = h @ self.W2 + self.b2
        target = np.eye(3)[y]
        loss = 0.5 * np.sum((z - target) ** 2)
        dz = z - target
        dh = (self.W2 @ dz) * (1 - h ** 2)
        self.W2 -= lr * np.outer(h, dz)
        self.b2 -= lr * dz
        self.W1 -= lr * np.outer(x, dh)
        self.b1 -= lr * dh
        return loss


rng = np.random.default_rng(8)
centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
Y = rng.integers(0, 3, 300)
X = centres[Y] + 2.5 * rng.standard_normal((300, 2))
net = Net(rng)
lr = 0.02
for epoch in range(10):
    for i in rng.permutation(len(X)):
        net.train(X[i], Y[i], lr)
"""


def _names(report: dict) -> list[str]:
    return [f["name"] for f in report["findings"]]


def test_online_regression_at_a_working_rate_has_no_rate_finding(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "online.py", SCRIPT, "lr = 0.05", "lr = 0.05"), training=True)
    assert RATE not in _names(report), report["findings"]
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_online_regression_at_a_rate_that_diverges_is_too_high(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "online.py", SCRIPT, "lr = 0.05", "lr = 10.0"), training=True)
    names = _names(report)
    assert RATE in names or "step-non-finite" in names, report["findings"]


def test_per_sample_classifier_method_at_a_working_rate_has_no_rate_finding(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "net.py", CLASSIFIER, "lr = 0.02", "lr = 0.02"), training=True)
    assert RATE not in _names(report), report["findings"]
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_per_sample_classifier_method_at_a_rate_far_too_high_is_too_high(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "net.py", CLASSIFIER, "lr = 0.02", "lr = 5.0"), training=True)
    names = _names(report)
    assert RATE in names or "step-non-finite" in names, report["findings"]
