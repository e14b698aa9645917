"""cs231n assignment 1's `TwoLayerNet.loss(X, y=None, reg=0.0)` is checked with `reg=0.1`: at its
default of 0 a forgotten regularisation gradient would never show, and the program's own training
(`reg=5e-6`) barely exercises it, so the replay's verdict does not overrule this check."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NET = """\
import numpy as np


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            'W1': std * np.random.randn(input_size, hidden_size),
            'b1': np.zeros(hidden_size),
            'W2': std * np.random.randn(hidden_size, output_size),
            'b2': np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = self.params['W1'], self.params['b1'], self.params['W2'], self.params['b2']
        N = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).sum() / N + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {}
        grads['W2'] = hidden.T.dot(dscores)
        grads['W2'] += 2 * reg * W2
        grads['b2'] = dscores.sum(axis=0)
        dhidden = dscores.dot(W2.T) * (hidden > 0)
        grads['W1'] = X.T.dot(dhidden) + 2 * reg * W1
        grads['b1'] = dhidden.sum(axis=0)
        return loss, grads

    def train(self, X, y, learning_rate=1e-3, reg=5e-6, num_iters=100, batch_size=20):
        for it in range(num_iters):
            idx = np.random.choice(X.shape[0], batch_size)
            loss, grads = self.loss(X[idx], y=y[idx], reg=reg)
            for key in self.params:
                self.params[key] -= learning_rate * grads[key]
"""


def test_a_correct_classifier_with_its_penalty_is_clean(tmp_path):
    report = check(write(tmp_path, "neural_net.py", NET))
    assert errors(report) == []
    assert any("reg 0.1" in b["shapes"] for b in report["built"] if b["what"] == "TwoLayerNet")


def test_a_forgotten_penalty_gradient_is_found_although_the_programs_own_reg_hides_it(tmp_path):
    path = planted(tmp_path, "neural_net.py", NET, "        grads['W2'] += 2 * reg * W2\n", "        grads['W2'] += 0\n")
    (found,) = errors(check(path))
    assert (found["name"], found["param"], found["line"]) == ("gradient-mismatch", "W2", line_of(path, "grads['W2'] += 0"))
    assert "checked with `reg=0.1`" in found["message"]
