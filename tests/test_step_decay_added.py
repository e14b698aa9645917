"""An L2 weight decay written as one plus the decay (`(1 + lr * lam / n) * W`) where it is one minus it:
the weights grow at every step although every gradient is right. The report names that statement (not
the learning rate) and offers `(1 - ...)`.

Three styles: a book-style network class rebinding its list of weight matrices with a comprehension over
`zip(self.weights, grads)`, a plain script stepping a dict of parameters key by key, and layer objects
whose own `step` rebinds their weight. The twins write the minus sign, one of them with the factor after
the weight (`W * (1 - lr * wd)`), and are clean.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted

BOOK = '''\
import numpy as np


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


class Net:
    def __init__(self, sizes, seed=1):
        rng = np.random.RandomState(seed)
        self.sizes = sizes
        self.weights = [rng.randn(o, i) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros((o, 1)) for o in sizes[1:]]

    def feedforward(self, a):
        for W, b in zip(self.weights, self.biases):
            a = sig(W @ a + b)
        return a

    def backprop(self, x, y):
        acts, a = [x], x
        for W, b in zip(self.weights, self.biases):
            a = sig(W @ a + b)
            acts.append(a)
        nabla_w = [np.zeros_like(W) for W in self.weights]
        nabla_b = [np.zeros_like(b) for b in self.biases]
        delta = acts[-1] - y
        nabla_w[-1] = delta @ acts[-2].T
        nabla_b[-1] = delta.sum(axis=1, keepdims=True)
        for k in range(2, len(self.sizes)):
            delta = (self.weights[-k + 1].T @ delta) * acts[-k] * (1 - acts[-k])
            nabla_w[-k] = delta @ acts[-k - 1].T
            nabla_b[-k] = delta.sum(axis=1, keepdims=True)
        return nabla_b, nabla_w

    def learn_batch(self, xb, yb, lr, lam, n):
        gb, gw = self.backprop(xb, yb)
        m = xb.shape[1]
        self.weights = [(1 - lr * lam / n) * W - (lr / m) * G for W, G in zip(self.weights, gw)]
        self.biases = [b - (lr / m) * g for b, g in zip(self.biases, gb)]

    def cost(self, X, Y, lam):
        A = self.feedforward(X)
        n = X.shape[1]
        data = -np.sum(Y * np.log(A + 1e-12) + (1 - Y) * np.log(1 - A + 1e-12)) / n
        return data + 0.5 * lam / n * sum(np.sum(W ** 2) for W in self.weights)

    def train(self, X, Y, epochs, batch, lr, lam):
        n = X.shape[1]
        shuffler = np.random.RandomState(0)
        for epoch in range(epochs):
            idx = shuffler.permutation(n)
            batches = [(X[:, idx[s:s + batch]], Y[:, idx[s:s + batch]]) for s in range(0, n, batch)]
            for xb, yb in batches:
                self.learn_batch(xb, yb, lr, lam, n)
            J = self.cost(X, Y, lam)
            print(epoch, J)


rng = np.random.RandomState(3)
X = rng.uniform(-1, 1, size=(2, 400))
Y = np.vstack([(X[0] * X[1] > 0), (X[0] * X[1] <= 0)]).astype(float)
Net([2, 16, 2]).train(X, Y, epochs=30, batch=20, lr=1.0, lam=1.0)
'''
BOOK_SWAP = ("(1 - lr * lam / n) * W", "(1 + lr * lam / n) * W")

DICT = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(200, 3))
y = (np.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:3])
params = {"W1": rng.normal(size=(3, 20)) * 0.5, "b1": np.zeros(20),
          "W2": rng.normal(size=(20, 1)) * 0.3, "b2": np.zeros(1)}
lr, weight_decay = 0.1, 0.5

for step in range(600):
    z = X @ params["W1"] + params["b1"]
    h = np.tanh(z)
    pred = h @ params["W2"] + params["b2"]
    loss = 0.5 * np.mean((pred - y) ** 2)
    d = (pred - y) / len(X)
    grads = {"W2": h.T @ d, "b2": d.sum(axis=0)}
    dz = (d @ params["W2"].T) * (1 - h ** 2)
    grads["W1"] = X.T @ dz
    grads["b1"] = dz.sum(axis=0)
    for k in ("W1", "W2"):
        params[k] = params[k] * (1 - lr * weight_decay) - lr * grads[k]
    for k in ("b1", "b2"):
        params[k] = params[k] - lr * grads[k]
    if step % 100 == 0:
        print(step, loss)
'''
DICT_SWAP = ("params[k] * (1 - lr * weight_decay)", "params[k] * (1 + lr * weight_decay)")

LAYERS = '''\
import numpy as np


class Affine:
    def __init__(self, n_in, n_out, rng, lr, l2):
        self.W = rng.normal(size=(n_in, n_out)) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)
        self.lr, self.l2 = lr, l2

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T

    def step(self):
        self.W = (1 - self.lr * self.l2) * self.W - self.lr * self.dW
        self.b = self.b - self.lr * self.db


class Relu:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, g):
        return g * self.mask


rng = np.random.default_rng(9)
X = rng.normal(size=(180, 4))
labels = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
T = np.eye(2)[labels]
layers = [Affine(4, 32, rng, 0.2, 0.5), Relu(), Affine(32, 2, rng, 0.2, 0.5)]
for it in range(500):
    a = X
    for layer in layers:
        a = layer.forward(a)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(T * np.log(p + 1e-12), axis=1))
    g = (p - T) / len(X)
    for layer in reversed(layers):
        g = layer.backward(g)
    for layer in layers:
        if isinstance(layer, Affine):
            layer.step()
    if it % 100 == 0:
        print(it, loss)
'''
LAYERS_SWAP = ("(1 - self.lr * self.l2) * self.W", "(1 + self.lr * self.l2) * self.W")

# the book network's batch method is taken as a step of its own, with no loss to replay: no rising loss is seen,
# and the statement is a warning; the other two replay their loop and see the loss rise: an error
CASES = [(BOOK, BOOK_SWAP, "warning"), (DICT, DICT_SWAP, "error"), (LAYERS, LAYERS_SWAP, "error")]
IDS = ["book-list-comprehension", "params-dict", "layer-step"]


@pytest.mark.parametrize("text, swap, severity", CASES, ids=IDS)
def test_a_decay_added_is_named_at_its_statement(tmp_path, text, swap, severity):
    correct, wrong = swap
    path = planted(tmp_path, "train.py", text, correct, wrong)
    report = check(path, training=True)
    line = line_of(path, wrong)
    found = [f for f in report["findings"] if f["name"] == "step-decay-wrong"]
    assert len(found) == 1, [(f["name"], f["line"], f["message"][:100]) for f in report["findings"]]
    finding = found[0]
    assert (finding["code"], finding["pattern"], finding["line"], finding["severity"]) == ("BPD639", "decay-added", line, severity)
    factor = correct.rsplit(" * ", 1)[0] if correct.startswith("(") else correct.split(" * ", 1)[1]
    assert "added instead of subtracted" in finding["message"] and f"write `{factor}`" in finding["message"]
    assert correct in finding["fix"]
    if severity == "error":
        root = report["findings"][report["root_cause"]]
        assert root["name"] == "step-decay-wrong", (root["name"], root["line"], root["message"][:160])
    assert [f["name"] for f in report["findings"] if f["severity"] in ("error", "warning")] == ["step-decay-wrong"]
    assert not [f for f in report["findings"] if f["name"] == "step-rate-too-high"]  # no smaller rate mends it


@pytest.mark.parametrize("text", [BOOK, DICT, LAYERS], ids=IDS)
def test_a_decay_subtracted_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    report = check(path, training=True)
    assert [(f["name"], f["line"]) for f in report["findings"] if f["severity"] in ("error", "warning")] == []


def test_the_factor_after_the_weight_is_clean_too(tmp_path):
    path = planted(tmp_path, "train.py", BOOK, "(1 - lr * lam / n) * W", "W * (1 - lr * (lam / n))")
    report = check(path, training=True)
    assert [(f["name"], f["line"]) for f in report["findings"] if f["severity"] in ("error", "warning")] == []


@pytest.mark.parametrize(
    "statement, factor",
    [
        ("W *= 1 + lr * wd", "(1 + lr * wd)"),
        ("net.W = net.W * (eta * self.lmbda / n + 1) - eta * dW", "(eta * self.lmbda / n + 1)"),
        ("ws = [(1.0 + lr * cfg['weight_decay']) * w - lr * g for w, g in zip(ws, gs)]", "(1.0 + lr * cfg['weight_decay'])"),
        ("W *= 1 - lr * wd", None),
        ("W = W * (1 - lr * lam) - lr * dW", None),
        ("v = (1 + mu) * v - mu * v_prev", None),  # a momentum's factor, no penalty's strength
        ("dW = dW + lam * W", None),  # the penalty's gradient, added where it belongs
        ("ws = [(1 + lr * lam) * w - lr * g for w, g in zip(other, gs)]", None),  # not the list it rebinds
    ],
)
def test_which_spellings_are_a_decay_added(statement, factor):
    import ast

    from backprop_doctor.static.scalings import added_decays

    found = added_decays(ast.parse(statement))
    assert [d.factor for d in found] == ([factor] if factor else [])
