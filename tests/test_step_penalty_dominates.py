"""An L2 penalty whose strength makes its gradient outweigh the data's: every gradient is right, the
weights shrink toward zero and the loss freezes. The report names the strength where it is set."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(4)
X = rng.normal(size=(300, 5))
y = (X[:, 0] - X[:, 1] ** 2 + 0.5 * X[:, 2] > 0).astype(int)
W1 = 0.5 * rng.normal(size=(5, 24))
b1 = np.zeros(24)
W2 = 0.5 * rng.normal(size=(24, 2))
b2 = np.zeros(2)
lam = 1e-3
lr = 0.5
for it in range(300):
    h = np.tanh(X @ W1 + b1)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y])) + 0.5 * lam * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    d = p.copy()
    d[np.arange(n), y] -= 1
    d /= n
    dW2 = h.T @ d + lam * W2
    db2 = d.sum(axis=0)
    dh = d @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh + lam * W1
    db1 = dh.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

TRAINER = '''\
import numpy as np


class Classifier:
    def __init__(self, n_in, n_hidden, n_out, weight_decay=0.0, seed=0):
        r = np.random.default_rng(seed)
        self.W1 = r.normal(0, 0.5, (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = r.normal(0, 0.5, (n_hidden, n_out))
        self.b2 = np.zeros(n_out)
        self.weight_decay = weight_decay

    def loss_and_grads(self, X, y):
        z = X @ self.W1 + self.b1
        h = np.maximum(z, 0)
        s = h @ self.W2 + self.b2
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        n = len(y)
        penalty = 0.5 * self.weight_decay * (np.sum(self.W1 * self.W1) + np.sum(self.W2 * self.W2))
        loss = -np.mean(np.log(p[np.arange(n), y])) + penalty
        d = p.copy()
        d[np.arange(n), y] -= 1
        d /= n
        grads = {}
        grads["W2"] = h.T @ d + self.weight_decay * self.W2
        grads["b2"] = d.sum(axis=0)
        dz = (d @ self.W2.T) * (z > 0)
        grads["W1"] = X.T @ dz + self.weight_decay * self.W1
        grads["b1"] = dz.sum(axis=0)
        return loss, grads


class Trainer:
    def __init__(self, model, lr):
        self.model, self.lr = model, lr

    def fit(self, X, y, epochs):
        for epoch in range(epochs):
            loss, grads = self.model.loss_and_grads(X, y)
            for key, g in grads.items():
                setattr(self.model, key, getattr(self.model, key) - self.lr * g)
        return loss


rng = np.random.default_rng(7)
X = rng.normal(size=(240, 4))
y = np.digitize(X[:, 0] + 0.6 * X[:, 1] ** 2, [-0.2, 1.0])
model = Classifier(4, 32, 3, weight_decay=1e-3)
print(Trainer(model, lr=0.5).fit(X, y, epochs=200))
'''


def test_a_small_penalty_in_a_flat_script_is_clean(tmp_path):
    report = check(planted(tmp_path, "train.py", SCRIPT, "lam = 1e-3", "lam = 1e-2"), training=True)
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "step-penalty-dominates"]


def test_a_huge_penalty_in_a_flat_script_is_named_at_its_strength(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "lam = 1e-3", "lam = 1.0")
    (finding,) = errors(check(path, training=True))
    assert (finding["name"], finding["line"]) == ("step-penalty-dominates", line_of(path, "lam = 1.0"))
    assert "regularisation is too strong" in finding["message"] and "`lam = 1.0`" in finding["message"]
    assert line_of(path, "dW2 = h.T @ d + lam * W2") in finding["highlight"]


def test_a_small_decay_in_a_class_trainer_is_clean(tmp_path):
    report = check(planted(tmp_path, "model.py", TRAINER, "weight_decay=1e-3)", "weight_decay=1e-3)"), training=True)
    assert errors(report) == []


def test_a_huge_decay_handed_to_a_class_is_named_at_the_call(tmp_path):
    path = planted(tmp_path, "model.py", TRAINER, "weight_decay=1e-3)", "weight_decay=2.0)")
    (finding,) = errors(check(path, training=True))
    assert (finding["name"], finding["line"]) == ("step-penalty-dominates", line_of(path, "weight_decay=2.0)"))
    assert "weight_decay=2.0" in finding["message"]
