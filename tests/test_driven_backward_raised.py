"""A training method the file never calls (`Classifier.train(features, labels)`), driven on a
synthetic batch: when its forward pass and loss run and a line of its backward pass raises (a
matrix product whose shapes do not align), that line is the finding, an error, where before the
file read "nothing was checked". A method whose forward pass itself does not take the synthetic
batch (a width written into the code) is no finding of the user's: nothing is blamed.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

CLASSIFIER = '''\
import numpy as np


class Classifier:
    def __init__(self, n_features, n_hidden, n_classes):
        rng = np.random.default_rng(11)
        self.A = rng.normal(0, 0.4, (n_features, n_hidden))
        self.c = np.zeros(n_hidden)
        self.B = rng.normal(0, 0.4, (n_hidden, n_classes))
        self.e = np.zeros(n_classes)

    def train(self, features, labels, rounds=50, learning_rate=0.3):
        n = len(features)
        for _ in range(rounds):
            pre = features @ self.A + self.c
            act = 1 / (1 + np.exp(-pre))
            scores = act @ self.B + self.e
            scores = scores - scores.max(axis=1, keepdims=True)
            probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            cost = -np.log(probs[np.arange(n), labels]).mean()
            g_scores = probs.copy()
            g_scores[np.arange(n), labels] -= 1
            g_scores /= n
            g_B = act.T @ g_scores
            g_e = g_scores.sum(axis=0)
            g_pre = (g_scores @ self.B.T) * act * (1 - act)
            g_A = features.T @ g_pre
            g_c = g_pre.sum(axis=0)
            self.A -= learning_rate * g_A
            self.c -= learning_rate * g_c
            self.B -= learning_rate * g_B
            self.e -= learning_rate * g_e
        return cost
'''


def test_the_correct_method_is_checked_without_a_finding(tmp_path):
    report = check(planted(tmp_path, "classifier.py", CLASSIFIER, "g_B = act.T @ g_scores", "g_B = act.T @ g_scores"))
    assert errors(report) == []
    assert any(m["layer"] == "training step" for m in report["measurements"])


def test_a_backward_line_that_raises_is_the_finding(tmp_path):
    path = planted(tmp_path, "classifier.py", CLASSIFIER, "g_B = act.T @ g_scores", "g_B = act @ g_scores.T")
    report = check(path)
    (finding,) = errors(report)
    assert finding["code"] == "BPD105"
    assert finding["line"] == line_of(path, "g_B = act @ g_scores.T")
    assert "ValueError" in finding["message"] and "Classifier(" in finding["message"]
    assert not [f for f in report["findings"] if f["code"] == "BPD007"]


def test_a_forward_pass_that_takes_another_width_is_not_blamed(tmp_path):
    """`self.A` is 784 rows whatever `n_features` says: the synthetic batch of 12 features does not
    fit the first product, which raises before any loss: the user's own data would fit it."""
    path = planted(tmp_path, "classifier.py", CLASSIFIER, "(n_features, n_hidden))", "(784, n_hidden))")
    report = check(path)
    assert errors(report) == []
