"""A function the step calls returns the loss beside the weights' gradients, written as products
it never names (`return loss, X.T @ G, G.sum(axis=0)`, `return loss, X.T @ err / n, ...`). The
array those products multiply the input by is the gradient of the one forward product of that
input (`scores = X @ self.W + self.b`), whatever its name: a wrong one is named at its own line,
not at the call that unpacks the gradients."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

METHOD = '''\
import numpy as np


class WeightedSoftmax:
    def __init__(self, d, k, class_weight, lr=0.1):
        rng = np.random.default_rng(0)
        self.W = rng.normal(0.0, 0.01, (d, k))
        self.b = np.zeros(k)
        self.cw = np.asarray(class_weight, dtype=float)
        self.lr = lr

    def probabilities(self, X):
        scores = X @ self.W + self.b
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def objective(self, X, y):
        n = len(X)
        P = self.probabilities(X)
        w = self.cw[y]
        loss = -np.sum(w * np.log(P[np.arange(n), y])) / n
        onehot = np.eye(P.shape[1])[y]
        G = w[:, None] * (P - onehot) / n
        return loss, X.T @ G, G.sum(axis=0)

    def fit(self, X, y, epochs=20, batch=30):
        for epoch in range(epochs):
            for start in range(0, len(X), batch):
                loss, gW, gb = self.objective(X[start:start + batch], y[start:start + batch])
                self.W -= self.lr * gW
                self.b -= self.lr * gb
            print(epoch, loss)
        return self


rng = np.random.default_rng(5)
y = rng.integers(0, 3, 150)
X = rng.normal(0, 1, (150, 4)) + np.eye(3, 4)[y] * 2.0
WeightedSoftmax(4, 3, [1.0, 2.0, 0.5]).fit(X, y)
'''

FUNCTION = '''\
import numpy as np


def loss_and_gradients(W, b, X, y, classes):
    n = X.shape[0]
    logits = X @ W + b
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    target = np.full((n, classes), 0.05 / classes)
    target[np.arange(n), y] += 0.95
    loss = -np.sum(target * np.log(probs)) / n
    err = probs - target
    return loss, X.T @ err / n, err.sum(axis=0) / n


rng = np.random.default_rng(8)
y = rng.integers(0, 4, 200)
X = rng.normal(0, 1, (200, 6)) + np.eye(4, 6)[y] * 1.5
W = np.zeros((6, 4))
b = np.zeros(4)
lr = 0.5
for it in range(100):
    loss, dW, db = loss_and_gradients(W, b, X, y, 4)
    W -= lr * dW
    b -= lr * db
    if it % 20 == 0:
        print(it, loss)
'''

WEIGHTED = "        G = w[:, None] * (P - onehot) / n\n"
SMOOTHED = "    err = probs - target\n"


def test_a_class_weight_left_out_of_the_unnamed_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "weighted.py", METHOD, WEIGHTED, "        G = (P - onehot) / n\n")
    report = check(path)
    (first,) = errors(report)
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "G = (P - onehot) / n")
    assert "`G`" in first["message"] and "`scores`" in first["message"]
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["G"]["wrong"] is True


def test_the_correct_method_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "weighted.py", METHOD, WEIGHTED, WEIGHTED))) == []


def test_hard_targets_against_a_smoothed_loss_are_named_at_the_error_s_line(tmp_path):
    path = planted(tmp_path, "smoothed.py", FUNCTION, SMOOTHED, "    err = probs - np.eye(classes)[y] * 0.95\n")
    (first,) = errors(check(path))
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "err = probs - np.eye(classes)[y]")
    assert "`logits`" in first["message"]


def test_the_correct_function_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "smoothed.py", FUNCTION, SMOOTHED, SMOOTHED))) == []
