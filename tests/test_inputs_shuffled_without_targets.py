"""Inputs shuffled (or permuted) without their targets, the two batches taken by two statements.

`X_train = X_train[perm]` each epoch with `y_train` left in order, then `xb = X_train[s:s + b]` and
`yb = y_train[s:s + b]` on lines of their own; `np.random.shuffle(X)` alone; `X_batch = X[idx[:b]]`
beside `y_batch = y[:b]`. Every gradient is right for the data the step is handed, and each input is
trained on another input's target. targets-not-shuffled read only a batch one statement took from
both; these are named where the change belongs (the shuffle, or the targets' batch taken without the
permutation) with what to write. Inputs and targets moved together (one permutation for both, a
stacked array shuffled, a list of pairs, `X, y = shuffle(X, y)`), an autoencoder whose only array is
`X`, a generator whose targets are its inputs, and a batch of masks drawn beside the inputs stay clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

# a script: the whole data set rebound in its shuffled order every epoch, batches taken line by line
SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(5)
features = rng.normal(size=(300, 4))
labels = (features[:, :1] - features[:, 2:3] > 0).astype(float)
W = rng.normal(size=(4, 1)) * 0.1
b = np.zeros(1)
lr = 0.3
bs = 30
for epoch in range(40):
    order = rng.permutation(len(features))
    features, labels = features[order], labels[order]
    for i in range(0, len(features), bs):
        xb = features[i:i + bs]
        tb = labels[i:i + bs]
        p = 1 / (1 + np.exp(-(xb @ W + b)))
        grad = (p - tb) / len(xb)
        W -= lr * xb.T @ grad
        b -= lr * grad.sum(axis=0)
'''

# a training function that shuffles its inputs in place every epoch
FUNCTION = '''\
import numpy as np


def softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


def train(X, Y, epochs=30, batch=25, lr=0.5):
    W = np.zeros((X.shape[1], Y.shape[1]))
    d = X.shape[1]
    for epoch in range(epochs):
        data = np.hstack([X, Y])
        np.random.shuffle(data)
        X, Y = data[:, :d], data[:, d:]
        for start in range(0, len(X), batch):
            x = X[start:start + batch]
            t = Y[start:start + batch]
            P = softmax(x @ W)
            W -= lr * x.T @ (P - t) / len(x)
    return W


np.random.seed(2)
X = np.random.randn(200, 3)
Y = np.eye(3)[np.argmax(X, axis=1)]
train(X, Y)
'''

# a model class with a loss method, one random minibatch drawn per step through a permutation
SAMPLED = '''\
import numpy as np


class TwoLayerNet:
    def __init__(self, d, h, k):
        self.params = {"W1": 0.1 * np.random.randn(d, h), "W2": 0.1 * np.random.randn(h, k)}

    def loss(self, X, y):
        W1, W2 = self.params["W1"], self.params["W2"]
        hidden = np.maximum(0, X @ W1)
        scores = hidden @ W2
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(probs[np.arange(n), y]).mean()
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        dhidden = dscores @ W2.T * (hidden > 0)
        return loss, {"W1": X.T @ dhidden, "W2": hidden.T @ dscores}


np.random.seed(0)
X = np.random.randn(500, 5)
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
net = TwoLayerNet(5, 16, 3)
for it in range(300):
    idx = np.random.permutation(len(X))
    X_batch = X[idx[:64]]
    y_batch = y[idx[:64]]
    loss, grads = net.loss(X_batch, y_batch)
    for name in net.params:
        net.params[name] -= 0.5 * grads[name]
'''

# a classifier whose fit method draws one order per epoch and hands each batch to its own step
CLASS = '''\
import numpy as np


class Logistic:
    def __init__(self, d, lr=0.2):
        self.w = np.zeros(d)
        self.b = 0.0
        self.lr = lr

    def step(self, xb, yb):
        p = 1 / (1 + np.exp(-(xb @ self.w + self.b)))
        g = (p - yb) / len(yb)
        self.w -= self.lr * xb.T @ g
        self.b -= self.lr * g.sum()

    def fit(self, X, y, epochs=20, batch_size=32):
        for epoch in range(epochs):
            perm = np.random.permutation(len(X))
            X, y = X[perm], y[perm]
            for i in range(0, len(X), batch_size):
                xs = X[i:i + batch_size]
                ys = y[i:i + batch_size]
                self.step(xs, ys)
        return self


np.random.seed(3)
X = np.random.randn(256, 2)
y = (X[:, 0] + X[:, 1] > 0).astype(float)
Logistic(2).fit(X, y)
'''

# (name, correct program, the correct statement, its twin that moves the inputs alone, the line named, what the message says to write)
CASES = {
    "script": (SCRIPT, "    features, labels = features[order], labels[order]\n", "    features = features[order]\n",
               "features = features[order]", "`labels = labels[order]`"),
    "function": (FUNCTION, "        data = np.hstack([X, Y])\n        np.random.shuffle(data)\n        X, Y = data[:, :d], data[:, d:]\n",
                 "        np.random.shuffle(X)\n", "np.random.shuffle(X)", "`X, Y = X[perm], Y[perm]`"),
    "sampled": (SAMPLED, "y_batch = y[idx[:64]]", "y_batch = y[:64]", "y_batch = y[:64]", "`y_batch = y[idx[:64]]`"),
    "class": (CLASS, "X, y = X[perm], y[perm]", "X = X[perm]", "X = X[perm]", "`y = y[perm]`"),
}  # fmt: skip


def _unshuffled(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "targets-not-shuffled"]


@pytest.mark.parametrize("name", CASES)
def test_inputs_moved_alone_are_named_where_the_change_belongs(tmp_path, name):
    program, right, wrong, at, fix = CASES[name]
    path = planted(tmp_path, f"{name}.py", program, right, wrong)
    (finding,) = _unshuffled(check(path))
    assert (finding["code"], finding["severity"], finding["line"]) == ("BPD614", "error", line_of(path, at)), finding
    assert fix in finding["message"] and "another input's target" in finding["message"], finding["message"]


@pytest.mark.parametrize("name", CASES)
def test_inputs_and_targets_moved_together_are_clean(tmp_path, name):
    report = check(write(tmp_path, f"{name}.py", CASES[name][0]))
    assert _unshuffled(report) == [] and [f for f in report["findings"] if f["severity"] == "error"] == [], report["findings"]


PAIRS = '''\
import random

import numpy as np

random.seed(1)
rng = np.random.default_rng(1)
X = rng.normal(size=(120, 3))
y = (X.sum(axis=1) > 0).astype(float)
w = np.zeros(3)
pairs = list(zip(X, y))
for epoch in range(30):
    random.shuffle(pairs)
    for i in range(0, len(pairs), 12):
        chunk = pairs[i:i + 12]
        xb = np.array([p[0] for p in chunk])
        yb = np.array([p[1] for p in chunk])
        p = 1 / (1 + np.exp(-(xb @ w)))
        w -= 0.5 * xb.T @ (p - yb) / len(yb)
'''

SHUFFLE_BOTH = '''\
import numpy as np


def shuffle(a, b):
    p = np.random.permutation(len(a))
    return a[p], b[p]


np.random.seed(1)
X = np.random.randn(120, 3)
y = (X.sum(axis=1) > 0).astype(float)
w = np.zeros(3)
for epoch in range(30):
    X, y = shuffle(X, y)
    for i in range(0, len(X), 12):
        xb = X[i:i + 12]
        yb = y[i:i + 12]
        p = 1 / (1 + np.exp(-(xb @ w)))
        w -= 0.5 * xb.T @ (p - yb) / len(yb)
'''

AUTOENCODER = '''\
import numpy as np

np.random.seed(4)
X = np.random.randn(200, 6) @ np.random.randn(6, 6)
W_enc = np.random.randn(6, 2) * 0.1
W_dec = np.random.randn(2, 6) * 0.1
for epoch in range(50):
    np.random.shuffle(X)
    for i in range(0, len(X), 20):
        xb = X[i:i + 20]
        code = xb @ W_enc
        recon = code @ W_dec
        err = (recon - xb) / len(xb)
        g_dec = code.T @ err
        g_enc = xb.T @ (err @ W_dec.T)
        W_dec -= 0.05 * g_dec
        W_enc -= 0.05 * g_enc
'''

GENERATOR = '''\
import numpy as np


def batches(X, size):
    idx = np.random.permutation(len(X))
    for i in range(0, len(X), size):
        xb = X[idx[i:i + size]]
        yield xb, xb


np.random.seed(4)
X = np.random.randn(200, 6) @ np.random.randn(6, 6)
W_enc = np.random.randn(6, 2) * 0.1
W_dec = np.random.randn(2, 6) * 0.1
for epoch in range(50):
    for xb, target in batches(X, 20):
        code = xb @ W_enc
        err = (code @ W_dec - target) / len(xb)
        g_dec = code.T @ err
        g_enc = xb.T @ (err @ W_dec.T)
        W_dec -= 0.05 * g_dec
        W_enc -= 0.05 * g_enc
'''

# masks drawn once for the whole data set, in their own order: a batch of them is not the inputs' target
MASKS = '''\
import numpy as np

np.random.seed(6)
X = np.random.randn(160, 4)
masks = (np.random.rand(160, 8) > 0.5) / 0.5
W1 = np.random.randn(4, 8) * 0.3
w2 = np.random.randn(8) * 0.3
for epoch in range(20):
    np.random.shuffle(X)
    for i in range(0, len(X), 16):
        xb = X[i:i + 16]
        mb = masks[i:i + 16]
        h = np.maximum(0, xb @ W1) * mb
        out = h @ w2
        g = (out - xb.sum(axis=1)) / len(xb)
        dh = np.outer(g, w2) * mb * (h > 0)
        w2 -= 0.01 * h.T @ g
        W1 -= 0.01 * xb.T @ dh
'''


@pytest.mark.parametrize(
    ("name", "program"),
    [("pairs.py", PAIRS), ("shuffle_both.py", SHUFFLE_BOTH), ("autoencoder.py", AUTOENCODER), ("generator.py", GENERATOR), ("masks.py", MASKS)],
)
def test_data_moved_together_or_without_targets_is_clean(tmp_path, name, program):
    assert _unshuffled(check(write(tmp_path, name, program))) == []


# --- the ways a batch is taken through a permutation, read in this process ---

HEAD = "import numpy as np\nX = np.random.randn(100, 3)\ny = (X[:, 0] > 0).astype(float)\nn, b = 100, 10\nW = np.zeros(3)\n"
LOOP = "for e in range(5):\n{draw}    for i in range(0, n, b):\n{take}        W -= xb.T @ (xb @ W - yb)\n"
TAKES = {
    # (how the order is drawn, the two batches, the fix, the line named: 1-based in the body after HEAD)
    "index name": ("    idx = np.random.permutation(n)\n", "        bi = idx[i:i + b]\n        xb = X[bi]\n        yb = y[i:i + b]\n", "`yb = y[bi]`", 6),
    "sliced after": ("    idx = np.random.permutation(n)\n", "        xb = X[idx][i:i + b]\n        yb = y[i:i + b]\n", "`yb = y[idx][i:i + b]`", 5),
    "shuffled arange": ("    idx = np.arange(n)\n    np.random.shuffle(idx)\n", "        xb = X[idx[i:i + b]]\n        yb = y[i:i + b]\n", "`yb = y[idx[i:i + b]]`", 6),
    "new name": ("    perm = np.random.permutation(n)\n    Xs = X[perm]\n", "        xb = Xs[i:i + b]\n        yb = y[i:i + b]\n", "`ys = y[perm]` beside line 8", 3),
}  # fmt: skip


@pytest.mark.parametrize("name", TAKES)
def test_each_way_of_taking_the_inputs_through_a_permutation_is_read(name):
    import ast

    from backprop_doctor.static.shuffles import unshuffled_targets

    draw, take, fix, line = TAKES[name]
    found = unshuffled_targets(ast.parse(HEAD + LOOP.format(draw=draw, take=take)))
    assert found is not None and found.named == HEAD.count("\n") + line and fix in (found.fix or ""), found
    right = take.replace("yb = y[i:i + b]", "yb = " + fix.strip("`").split(" = ", 1)[1].split("`")[0]) if name != "new name" else (
        draw + "    ys = y[perm]\n", take.replace("y[i:i + b]", "ys[i:i + b]"))
    if name == "new name":
        assert unshuffled_targets(ast.parse(HEAD + LOOP.format(draw=right[0], take=right[1]))) is None
    else:
        assert unshuffled_targets(ast.parse(HEAD + LOOP.format(draw=draw, take=right))) is None
