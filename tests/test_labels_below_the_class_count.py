"""A cs231n-style classifier whose constructor keeps its own sizes (`TwoLayerNet(D=6, H=5, C=3)`,
names the builder does not set) is given labels below its own class count: the width of the
scores `loss(X)` returns without labels, else the last weight's columns. Labels drawn for more
classes made its correct `p[np.arange(N), y]` raise IndexError, reported as the user's error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# `loss(X, y, reg)` needs its labels: the class count is read from the last weight, W2 (H, C)
LABELS_REQUIRED = '''\
import numpy as np


class TwoLayerNet:
    def __init__(self, D=6, H=5, C=3, std=0.1):
        self.params = {"W1": std * np.random.randn(D, H), "b1": np.zeros(H),
                       "W2": std * np.random.randn(H, C), "b2": np.zeros(C)}

    def loss(self, X, y, reg=0.0):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h = np.maximum(0, X @ W1 + b1)
        s = h @ W2 + b2
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.log(p[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        ds = p.copy()
        ds[np.arange(N), y] -= 1
        ds /= N
        grads = {"W2": h.T @ ds + 2 * reg * W2, "b2": ds.sum(axis=0)}
        dh = ds @ W2.T
        dh[h <= 0] = 0
        grads["W1"] = X.T @ dh + 2 * reg * W1
        grads["b1"] = dh.sum(axis=0)
        return loss, grads
'''

# `loss(X, y=None)` gives the scores without labels; its last weight is stored (C, H), so only
# the scores' width says how many classes there are
SCORES_WITHOUT_LABELS = '''\
import numpy as np


class Classifier:
    def __init__(self, n_features=6, n_hidden=7, n_labels=3):
        self.params = {"W1": 0.1 * np.random.randn(n_features, n_hidden), "b1": np.zeros(n_hidden),
                       "W2": 0.1 * np.random.randn(n_labels, n_hidden), "b2": np.zeros(n_labels)}

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        h = np.tanh(X @ W1 + b1)
        scores = h @ W2.T + b2
        if y is None:
            return scores
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.log(p[np.arange(N), y]).mean()
        ds = p.copy()
        ds[np.arange(N), y] -= 1
        ds /= N
        grads = {"W2": ds.T @ h, "b2": ds.sum(axis=0)}
        dh = ds @ W2 * (1 - h ** 2)
        grads["W1"] = X.T @ dh
        grads["b1"] = dh.sum(axis=0)
        return loss, grads
'''


def test_a_correct_classifier_with_its_own_class_count_is_clean(tmp_path):
    report = check(write(tmp_path, "net.py", LABELS_REQUIRED))
    assert errors(report) == []
    assert any(m["layer"] == "TwoLayerNet" and m["param"] == "b2" and m["verdict"] == "ok" for m in report["measurements"])


def test_a_wrong_gradient_of_that_classifier_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", LABELS_REQUIRED, 'grads["b1"] = dh.sum(axis=0)', 'grads["b1"] = 2 * dh.sum(axis=0)')
    found = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found and all(f["line"] == line_of(path, 'grads["b1"] = 2 * dh') for f in found)


def test_labels_stay_below_the_width_of_the_scores(tmp_path):
    report = check(write(tmp_path, "net.py", SCORES_WITHOUT_LABELS))
    assert errors(report) == []
    assert any(m["layer"] == "Classifier" and m["param"] == "W2" and m["verdict"] == "ok" for m in report["measurements"])


def test_a_wrong_gradient_of_the_scores_classifier_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", SCORES_WITHOUT_LABELS, 'grads["W1"] = X.T @ dh', 'grads["W1"] = X.T @ dh / N')
    found = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found and all(f["line"] == line_of(path, 'grads["W1"] = X.T @ dh / N') for f in found)


# a book-style network (`loss(x, t)`, `gradient(x, t)`) with no `predict` to read the class count from
NO_PREDICT = '''\
import numpy as np


class Net:
    def __init__(self, D=6, H=5, C=3):
        self.params = {"W1": 0.1 * np.random.randn(D, H), "b1": np.zeros(H),
                       "W2": 0.1 * np.random.randn(H, C), "b2": np.zeros(C)}

    def probabilities(self, x):
        self.h = np.tanh(x @ self.params["W1"] + self.params["b1"])
        s = self.h @ self.params["W2"] + self.params["b2"]
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x, t):
        self.y = self.probabilities(x)
        return -np.sum(t * np.log(self.y + 1e-12)) / x.shape[0]

    def gradient(self, x, t):
        self.loss(x, t)
        ds = (self.y - t) / x.shape[0]
        dh = ds @ self.params["W2"].T * (1 - self.h ** 2)
        dW1 = x.T @ dh
        return {"W1": dW1, "b1": dh.sum(axis=0), "W2": self.h.T @ ds, "b2": ds.sum(axis=0)}
'''


def test_targets_of_a_network_without_predict_have_its_last_weights_columns(tmp_path):
    report = check(write(tmp_path, "net.py", NO_PREDICT))
    assert errors(report) == []
    assert [b["shapes"] for b in report["built"] if b["what"] == "Net"] == ["x (5, 6), t (5, 3)"]


def test_a_wrong_gradient_of_that_network_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", NO_PREDICT, "dW1 = x.T @ dh", "dW1 = x.T @ dh * 3")
    found = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert found and all(f["line"] == line_of(path, "dW1 = x.T @ dh * 3") for f in found)
