"""One-hot targets built a column at a time, `T[:, y] = 1` where `T[np.arange(n), y] = 1` is meant: every
row gets a 1 at the column of every label in the batch. The loss reads the probabilities at the labels
themselves (`P[np.arange(n), y]`), so the softmax gradient `(P - T) / n` is right as written and wrong
only through `T`: the finding names the statement that built `T` (inside the helper that makes the
targets, or in the loss's own function) and its row-by-row fix, not the gradient's line.

Two styles: a helper `to_targets(classes, count)` called by a step function over minibatches, and a class
whose method builds the targets in place. A one-row target (`t = np.zeros((1, K))`, `t[:, y[i]] = 1.0`
in a per-sample loop) is a right use of a whole column and stays clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

HELPER = '''\
import numpy as np

rng = np.random.default_rng(2)
K = 3
means = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
labels_all = rng.integers(0, K, size=240)
data = means[labels_all] + 0.6 * rng.normal(size=(240, 2))


def to_targets(classes, count):
    targets = np.zeros((classes.shape[0], count))
    targets[np.arange(classes.shape[0]), classes] = 1.0
    return targets


def step_gradients(W, b, xb, cb):
    z = xb @ W + b
    z = z - z.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    nll = -np.log(prob[np.arange(len(cb)), cb]).mean()
    targets = to_targets(cb, K)
    dz = (prob - targets) / len(cb)
    return nll, xb.T @ dz, dz.sum(axis=0)


W = 0.01 * rng.normal(size=(2, K))
b = np.zeros(K)
for epoch in range(30):
    order = rng.permutation(len(data))
    for start in range(0, len(data), 40):
        pick = order[start:start + 40]
        nll, gW, gb = step_gradients(W, b, data[pick], labels_all[pick])
        W -= 0.5 * gW
        b -= 0.5 * gb
print(nll)
'''

CLASS = '''\
import numpy as np


class TinyClassifier:
    def __init__(self, n_in, n_hidden, n_classes, seed):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(scale=0.4, size=(n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(scale=0.4, size=(n_hidden, n_classes))
        self.b2 = np.zeros(n_classes)
        self.n_classes = n_classes

    def loss_and_gradients(self, X, y):
        n = X.shape[0]
        H = np.maximum(0, X @ self.W1 + self.b1)
        S = H @ self.W2 + self.b2
        S -= S.max(axis=1, keepdims=True)
        P = np.exp(S)
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.sum(np.log(P[np.arange(n), y])) / n
        T = np.zeros((n, self.n_classes))
        T[np.arange(n), y] = 1
        dS = (P - T) / n
        dH = dS @ self.W2.T
        dH[H <= 0] = 0
        return loss, {"W1": X.T @ dH, "b1": dH.sum(axis=0), "W2": H.T @ dS, "b2": dS.sum(axis=0)}


rng = np.random.default_rng(9)
X = rng.normal(size=(180, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
net = TinyClassifier(4, 16, 3, seed=1)
for it in range(200):
    loss, grads = net.loss_and_gradients(X, y)
    for name, g in grads.items():
        setattr(net, name, getattr(net, name) - 0.3 * g)
print(loss)
'''

ONE_ROW = '''\
import numpy as np

rng = np.random.default_rng(6)
K = 3
X = rng.normal(size=(90, 2))
y = np.argmax(X @ rng.normal(size=(2, K)), axis=1)
W = 0.01 * rng.normal(size=(2, K))
for epoch in range(5):
    for i in range(len(X)):
        x = X[i:i + 1]
        z = x @ W
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        loss = -np.log(p[0, y[i]])
        t = np.zeros((1, K))
        t[:, y[i]] = 1.0
        W -= 0.1 * x.T @ (p - t)
print(loss)
'''

ROWS_HELPER = "targets[np.arange(classes.shape[0]), classes] = 1.0"
COLUMNS_HELPER = "targets[:, classes] = 1.0"
ROWS_CLASS = "T[np.arange(n), y] = 1"
COLUMNS_CLASS = "T[:, y] = 1"


def test_the_correct_helper_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "softmax_helper.py", HELPER, ROWS_HELPER, ROWS_HELPER))) == []


def test_targets_scattered_in_a_helper_are_named_there(tmp_path):
    path = planted(tmp_path, "softmax_helper.py", HELPER, ROWS_HELPER, COLUMNS_HELPER)
    (finding,) = errors(check(path))
    assert finding["code"] == "BPD108"
    assert finding["pattern"] == "one-hot-scattered"
    assert finding["line"] == line_of(path, COLUMNS_HELPER)
    assert "targets[np.arange(len(classes)), classes] = 1.0" in finding["message"]


def test_the_correct_class_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "tiny.py", CLASS, ROWS_CLASS, ROWS_CLASS))) == []


def test_targets_scattered_in_the_loss_method_are_named_there(tmp_path):
    path = planted(tmp_path, "tiny.py", CLASS, ROWS_CLASS, COLUMNS_CLASS)
    report = check(path)
    step = [f for f in errors(report) if f["code"] == "BPD108"]
    assert [f["line"] for f in step] == [line_of(path, COLUMNS_CLASS)]
    assert step[0]["pattern"] == "one-hot-scattered"
    assert report["findings"][report["root_cause"]]["line"] == line_of(path, COLUMNS_CLASS)


def test_a_one_row_target_set_by_its_column_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "per_sample.py", ONE_ROW))) == []
