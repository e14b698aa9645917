"""A gradient built in two statements, its data term first and then its parameter's L2 penalty added to it
(`dW = 2 * X.T @ err / n`, then `dW += 2 * lam * W`): when the data term is wrong, the finding names the
data term's line, not the penalty's that finishes the gradient. The error is no multiple of the
parameter, so no strength of the penalty could put it right. A wrong strength of the penalty is still
named at the penalty's line.

Two styles: a script whose objective function returns the loss and the gradients (the training step's
replay), and a classifier class whose `loss` method returns them in a dictionary (the model's gradient
check).
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

RIDGE = '''\
import numpy as np

rng = np.random.default_rng(4)
n, d, k = 120, 6, 3
X = rng.normal(size=(n, d))
W_true = rng.normal(size=(d, k))
Y = X @ W_true + 0.05 * rng.normal(size=(n, k))
lam = 0.01


def objective(W, b):
    err = X @ W + b - Y
    loss = np.mean(np.sum(err ** 2, axis=1)) + lam * np.sum(W ** 2)
    dW = 2 * X.T @ err / n
    dW += 2 * lam * W
    db = 2 * err.sum(axis=0) / n
    return loss, dW, db


W = 0.1 * rng.normal(size=(d, k))
b = np.zeros(k)
for step in range(300):
    loss, dW, db = objective(W, b)
    W -= 0.05 * dW
    b -= 0.05 * db
print(loss)
'''

DATA = "dW = 2 * X.T @ err / n"
PENALTY = "dW += 2 * lam * W"


def test_the_correct_objective_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "ridge.py", RIDGE, DATA, DATA))) == []


def test_a_wrong_data_term_is_named_at_its_line_not_the_penalty(tmp_path):
    path = planted(tmp_path, "ridge.py", RIDGE, DATA, "dW = X.T @ err / n")
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["line"] == line_of(path, "dW = X.T @ err / n")
    assert line_of(path, PENALTY) in finding["highlight"]
    assert "no multiple of `W`" in finding["message"]


def test_a_wrong_strength_of_the_penalty_is_still_named_at_the_penalty(tmp_path):
    path = planted(tmp_path, "ridge.py", RIDGE, PENALTY, "dW += lam * W")
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "dW += lam * W")


CLASSIFIER = '''\
import numpy as np


class SoftmaxClassifier:
    def __init__(self, d, k, reg, rng):
        self.W = 0.1 * rng.standard_normal((d, k))
        self.b = np.zeros(k)
        self.reg = reg

    def loss(self, X, y):
        n = X.shape[0]
        scores = X @ self.W + self.b
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(n), y]).mean() + 0.5 * self.reg * np.sum(self.W * self.W)
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        grads = {}
        grads["W"] = X.T @ dscores
        grads["W"] = grads["W"] + self.reg * self.W
        grads["b"] = dscores.sum(axis=0)
        return loss, grads


rng = np.random.default_rng(11)
centers = rng.normal(scale=2.0, size=(3, 4))
y = rng.integers(0, 3, size=150)
X = centers[y] + rng.normal(size=(150, 4))
model = SoftmaxClassifier(4, 3, 0.05, rng)
for it in range(200):
    loss, grads = model.loss(X, y)
    model.W -= 0.5 * grads["W"]
    model.b -= 0.5 * grads["b"]
print(loss)
'''

SCORES = 'grads["W"] = X.T @ dscores'


def test_the_correct_classifier_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "classifier.py", CLASSIFIER, SCORES, SCORES))) == []


def test_a_wrong_data_term_of_a_keyed_gradient_is_named_at_its_line(tmp_path):
    wrong = 'grads["W"] = X.T @ probs / n'
    path = planted(tmp_path, "classifier.py", CLASSIFIER, SCORES, wrong)
    found = errors(check(path))
    assert found
    assert {f["line"] for f in found if f["param"] in ("W", "model.W")} == {line_of(path, wrong)}
    assert any("no multiple of `W`" in f["message"] for f in found)
