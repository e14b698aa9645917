"""A cs231n-shaped classifier whose `loss(X, y, reg)` takes one-hot targets (`-np.sum(y * np.log(p))`)
raises on the integer labels the check draws first; the same labels as rows of the identity are
what it takes, and it is checked on those, never blamed for the check's own labels."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

CLASSIFIER = """\
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=0.1):
        rng = np.random.default_rng(1)
        self.params = {"W1": std * rng.standard_normal((input_size, hidden_size)), "b1": np.zeros(hidden_size),
                       "W2": std * rng.standard_normal((hidden_size, output_size)), "b2": np.zeros(output_size)}

    def loss(self, X, y, reg=0.0):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h = np.maximum(0, X @ W1 + b1)
        s = h @ W2 + b2
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.sum(y * np.log(p)) / n + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        ds = (p - y) / n
        grads = {"W2": h.T @ ds + reg * W2, "b2": ds.sum(axis=0)}
        dh = ds @ W2.T
        dh[h <= 0] = 0
        grads["W1"] = X.T @ dh + reg * W1
        grads["b1"] = dh.sum(axis=0)
        return loss, grads
"""


def test_a_classifier_of_one_hot_targets_is_checked_on_one_hot_labels_and_clean(tmp_path):
    report = check(write(tmp_path, "classifier.py", CLASSIFIER))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "TwoLayerNet"} == {"W1", "b1", "W2", "b2"}
    (built,) = [b for b in report["built"] if b["what"] == "TwoLayerNet"]
    assert "labels (5, " in built["shapes"]


def test_its_planted_bug_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "classifier.py", CLASSIFIER, "grads[\"W1\"] = X.T @ dh + reg * W1", "grads[\"W1\"] = X.T @ dh + 2 * reg * W1")
    report = check(path)
    assert [(f["param"], f["line"]) for f in errors(report)] == [("W1", line_of(path, "2 * reg * W1"))]


def test_a_classifier_of_integer_labels_keeps_them(tmp_path):
    integer = CLASSIFIER.replace("-np.sum(y * np.log(p)) / n", "-np.mean(np.log(p[np.arange(n), y]))").replace(
        "ds = (p - y) / n", "ds = p.copy()\n        ds[np.arange(n), y] -= 1\n        ds /= n"
    )
    report = check(write(tmp_path, "classifier.py", integer))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "TwoLayerNet"]
    assert "labels (5,)" in built["shapes"]
