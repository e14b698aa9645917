"""A loss layer that tells one-hot targets from labels itself (the book's `SoftmaxWithLoss`, whose
backward branches on `self.t.size == self.y.size`) is checked with both, so a bug in the branch
one of them never takes is found; a loss written for one form only is given that form alone."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx
"""

ONE_HOT_ONLY = """\
import numpy as np


class SoftmaxCrossEntropy:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.p, self.t = e / e.sum(axis=1, keepdims=True), t
        self.accuracy = np.mean(np.argmax(self.p, axis=-1) == np.argmax(t, axis=-1))  # argmax: looks like either
        return -np.sum(t * np.log(self.p)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.p - self.t) / self.t.shape[0]
"""


def inputs(report: dict, what: str) -> str:
    (built,) = [b for b in report["built"] if b["what"] == what]
    return built["shapes"]


def test_the_books_loss_layer_is_checked_with_one_hot_targets_and_with_labels(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert "t one-hot" in inputs(report, "SoftmaxWithLoss") and "t labels" in inputs(report, "SoftmaxWithLoss")


def test_a_bug_in_the_labels_branch_is_found(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "            dx[np.arange(batch_size), self.t] -= 1\n", "")
    (found,) = errors(check(path))
    assert (found["name"], found["line"]) == ("gradient-mismatch", line_of(path, "dx = dx / batch_size"))
    assert found["pattern"] == "target-not-subtracted"
    assert "it is 1/5 too large at one entry of every row (the correct class's)" in found["message"]


def test_a_loss_written_for_one_hot_targets_is_given_them_alone(tmp_path):
    """Its `argmax` looks like a loss that reads labels too, and a label broadcasts through `t * log(p)`
    for a batch of one; its loss then differs from the one-hot loss of the same class, so it is not."""
    report = check(write(tmp_path, "loss.py", ONE_HOT_ONLY))
    assert errors(report) == []
    assert "labels" not in inputs(report, "SoftmaxCrossEntropy")
