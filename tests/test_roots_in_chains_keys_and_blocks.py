"""Roots placed at the statement to fix, in four shapes students write:

- one statement of a loss-and-gradients function feeds several wrong gradients and no right one (a chain
  missing the scale of the scores it differentiates): every wrong gradient of that group follows from the
  statement the group was placed at, so no gradient of the group, measured at its own store, ranks first;
- an update walking `params.items()` (`value -= lr * grads[name]`) reads the gradient under the key the loop
  hands it, so the line is where that entry is filled; an indexed `+=` with repeated indices held by the
  object (`dE[self.ids] += ...`), or filling a name a later statement only stores, is named as such;
- a derivative helper of two arguments, the activation's input and its output (`elu_deriv(z, a)`), is
  checked beside its activation, called with both, so the root is its `return`;
- a block run by calling it and taking its gradient back with `back(dy)` (`__call__`/`back`), holding the
  layers it calls (`self.fc1 = Linear(...)`), is checked on the input the program gave it: a skip path or a
  branch its backward drops is named at the block's statement, not at the right `Linear.back` it calls.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

ATTENTION = """\
import numpy as np

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 3, 4))
y = rng.standard_normal((8, 1))
P = {"query": rng.standard_normal((4, 2)) * 0.5, "key": rng.standard_normal((4, 2)) * 0.5, "v": rng.standard_normal((4, 1)) * 0.5}
c = 0.5


def loss_and_grads(P, X, y):
    Q = X @ P["query"]
    K = X @ P["key"]
    S = Q @ K.transpose(0, 2, 1) * c
    pooled = np.tanh(S).mean(axis=(1, 2))[:, None] * (X.mean(axis=(1, 2))[:, None])
    out = pooled + X.mean(axis=1) @ P["v"]
    n = len(X)
    loss = 0.5 * np.mean((out - y) ** 2)
    dout = (out - y) / n
    g = {}
    g["v"] = X.mean(axis=1).T @ dout
    dS = (dout * X.mean(axis=(1, 2))[:, None])[:, :, None] / 9 * (1 - np.tanh(S) ** 2) * c
    dQ = dS @ K
    dK = dS.transpose(0, 2, 1) @ Q
    g["query"] = X.reshape(-1, 4).T @ dQ.reshape(-1, 2)
    g["key"] = X.reshape(-1, 4).T @ dK.reshape(-1, 2)
    return loss, g


for step in range(20):
    loss, g = loss_and_grads(P, X, y)
    for k in P:
        P[k] -= 0.1 * g[k]
"""

TINY_NET = """\
import numpy as np


class TinyNet:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            "w_hidden": rng.standard_normal((n_in, n_hidden)) * 0.5,
            "b_hidden": np.zeros(n_hidden),
            "w_out": rng.standard_normal((n_hidden, 1)) * 0.5,
            "b_out": np.zeros(1),
        }

    def loss(self, X, y):
        p = self.params
        z = X @ p["w_hidden"] + p["b_hidden"]
        h = np.tanh(z)
        out = h @ p["w_out"] + p["b_out"]
        loss = np.mean((out - y) ** 2)
        dout = 2 * (out - y) / len(X)
        grads = {}
        grads["w_out"] = h.T @ dout
        grads["b_out"] = dout.sum(axis=0)
        dh = dout @ p["w_out"].T
        dz = dh * (1 - h ** 2)
        grads["w_hidden"] = X.T @ dz
        grads["b_hidden"] = dz.sum(axis=0)
        return loss, grads


rng = np.random.default_rng(1)
X = rng.standard_normal((16, 3))
y = np.sin(X[:, :1])
net = TinyNet(3, 5)
for step in range(20):
    loss, grads = net.loss(X, y)
    for k in net.params:
        net.params[k] -= 0.1 * grads[k]
"""

EMBED_LAYERS = """\
import numpy as np


class Embedding:
    def __init__(self, rng, n, d):
        self.params = {"E": rng.normal(0, 0.3, (n, d))}
        self.grads = {}

    def forward(self, idx):
        self.idx = idx
        return self.params["E"][idx].sum(axis=1)

    def backward(self, dout):
        dE = np.zeros_like(self.params["E"])
        np.add.at(dE, self.idx, np.repeat(dout[:, None, :], self.idx.shape[1], axis=1))
        self.grads["E"] = dE


class Dense:
    def __init__(self, rng, n, m):
        self.params = {"W": rng.normal(0, 0.3, (n, m)), "b": np.zeros(m)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T


rng = np.random.default_rng(4)
idx = rng.integers(0, 8, (24, 3))
target = (idx[:, :1] > 3).astype(float)
layers = [Embedding(rng, 8, 4), Dense(rng, 4, 1)]
for step in range(30):
    out = layers[1].forward(layers[0].forward(idx))
    loss = 0.5 * np.mean((out - target) ** 2)
    layers[0].backward(layers[1].backward((out - target) / len(out)))
    for layer in layers:
        for k, p in layer.params.items():
            p -= 0.1 * layer.grads[k]
"""

SWISH = """\
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def swish(z):
    return z * sigmoid(z)


def swish_prime(z, a):
    return a + sigmoid(z) * (1.0 - a)


rng = np.random.default_rng(5)
X = rng.uniform(-2, 2, (40, 2))
Y = np.sin(X[:, :1]) * X[:, 1:]
W1, b1 = rng.standard_normal((2, 6)) * 0.7, np.zeros(6)
W2, b2 = rng.standard_normal((6, 1)) * 0.7, np.zeros(1)
for epoch in range(2):
    for i in range(len(X)):
        x, y = X[i:i + 1], Y[i:i + 1]
        z = x @ W1 + b1
        a = swish(z)
        out = a @ W2 + b2
        loss = 0.5 * float(np.sum((out - y) ** 2))
        dout = out - y
        dz = (dout @ W2.T) * swish_prime(z, a)
        W2 -= 0.05 * a.T @ dout
        b2 -= 0.05 * dout.sum(axis=0)
        W1 -= 0.05 * x.T @ dz
        b1 -= 0.05 * dz.sum(axis=0)
"""

TANH_LIST = """\
import numpy as np


def tanh(x):
    return np.tanh(x)


def tanh_deriv(x, y):
    return 1.0 - y ** 2


def backprop(Ws, X, T):
    zs, hs = [], [X]
    for W in Ws[:-1]:
        z = hs[-1] @ W
        zs.append(z)
        hs.append(tanh(z))
    out = hs[-1] @ Ws[-1]
    loss = 0.5 * np.mean(np.sum((out - T) ** 2, axis=1))
    delta = (out - T) / len(X)
    grads = [hs[-1].T @ delta]
    for k in range(len(Ws) - 2, -1, -1):
        delta = (delta @ Ws[k + 1].T) * tanh_deriv(zs[k], hs[k + 1])
        grads.insert(0, hs[k].T @ delta)
    return loss, grads


rng = np.random.default_rng(6)
X = rng.standard_normal((32, 3))
T = X[:, :1] * X[:, 1:2]
Ws = [rng.standard_normal((3, 6)) * 0.5, rng.standard_normal((6, 6)) * 0.5, rng.standard_normal((6, 1)) * 0.5]
for epoch in range(30):
    loss, grads = backprop(Ws, X, T)
    for W, g in zip(Ws, grads):
        W -= 0.1 * g
"""

SKIP_BLOCK = """\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)

    def __call__(self, x):
        self.x = x
        return x @ self.W + self.b

    def back(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


class Skip:
    def __init__(self, n, rng):
        self.inner = Dense(n, n, rng)

    def __call__(self, x):
        self.h = np.tanh(self.inner(x))
        return x + self.h

    def back(self, dy):
        dx = dy + self.inner.back(dy * (1 - self.h ** 2))
        return dx


rng = np.random.default_rng(8)
X = rng.standard_normal((30, 4))
Y = X[:, :1] - X[:, 1:2] ** 2
first, block, last = Dense(4, 6, rng), Skip(6, rng), Dense(6, 1, rng)
for step in range(25):
    out = last(block(first(X)))
    loss = np.mean((out - Y) ** 2)
    first.back(block.back(last.back(2 * (out - Y) / len(X))))
    for layer in (first, block.inner, last):
        layer.W -= 0.05 * layer.dW
        layer.b -= 0.05 * layer.db
"""

TWO_PATHS = """\
import numpy as np


class Affine:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 0.4, (n_in, n_out))

    def __call__(self, x):
        self.x = x
        return x @ self.W

    def back(self, grad):
        self.grad_W = self.x.T @ grad
        return grad @ self.W.T


class TwoPaths:
    def __init__(self, n_in, n_out, rng):
        self.left = Affine(n_in, n_out, rng)
        self.right = Affine(n_in, n_out, rng)

    def __call__(self, x):
        self.a = self.left(x)
        return self.a * (self.a > 0) + self.right(x)

    def back(self, grad):
        gx = self.left.back(grad * (self.a > 0)) + self.right.back(grad)
        return gx


rng = np.random.default_rng(9)
X = rng.normal(size=(24, 3))
T = np.abs(X[:, :1])
stack = [TwoPaths(3, 5, rng), TwoPaths(5, 5, rng)]
head = Affine(5, 1, rng)
for it in range(25):
    h = X
    for block in stack:
        h = block(h)
    out = head(h)
    loss = 0.5 * np.mean((out - T) ** 2)
    g = head.back((out - T) / len(X))
    for block in reversed(stack):
        g = block.back(g)
    for p in (head, *[b.left for b in stack], *[b.right for b in stack]):
        p.W -= 0.1 * p.grad_W
"""


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


def _clean(report: dict) -> None:
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")], report["findings"]


# ---------------------------------------------------------------- one statement feeds a group of wrong gradients


def test_a_scale_left_out_of_the_scores_gradient_is_placed_where_both_wrong_gradients_part(tmp_path):
    correct = "/ 9 * (1 - np.tanh(S) ** 2) * c"
    path = planted(tmp_path, "scores.py", ATTENTION, correct, "/ 9 * (1 - np.tanh(S) ** 2)")
    report = check(path)
    root = _root(report)
    # the statement that leaves the scale out, or the replay's first adjoint measured wrong, right after it
    assert root["line"] in (line_of(path, "dS = ("), line_of(path, "dQ = dS @ K")), root
    key = next(f for f in report["findings"] if f["name"] == "gradient-mismatch" and f["param"] == "key")
    assert key["caused_by"] is not None  # measured at its own store, explained by the statement both come from
    _clean(check(write(tmp_path / "ok", "scores.py", ATTENTION)))


def test_a_factor_in_a_hidden_layers_adjoint_is_the_root_of_both_its_gradients(tmp_path):
    correct = "        dz = dh * (1 - h ** 2)\n"
    path = planted(tmp_path, "tiny.py", TINY_NET, correct, "        dz = dh * (1 - h ** 2) * 3\n")
    report = check(path, "--no-run")
    assert _root(report)["line"] == line_of(path, "dz = dh *")
    bias = next(f for f in report["findings"] if f["name"] == "gradient-mismatch" and f["param"] == "b_hidden")
    assert bias["caused_by"] is not None
    _clean(check(write(tmp_path / "ok", "tiny.py", TINY_NET), "--no-run"))


# ---------------------------------------------------------------- keyed updates, indexed `+=` on the object


def test_an_indexed_add_a_layer_stores_afterwards_is_named_at_the_add(tmp_path):
    correct = "        np.add.at(dE, self.idx, np.repeat(dout[:, None, :], self.idx.shape[1], axis=1))\n"
    wrong = "        dE[self.idx] += np.repeat(dout[:, None, :], self.idx.shape[1], axis=1)\n"
    path = planted(tmp_path, "layers.py", EMBED_LAYERS, correct, wrong)
    root = _root(check(path))
    assert root["line"] == line_of(path, "dE[self.idx] +=")
    assert root["pattern"] == "repeated-index-add"
    _clean(check(write(tmp_path / "ok", "layers.py", EMBED_LAYERS)))


# ---------------------------------------------------------------- a derivative of the input and the output


def test_a_derivative_of_the_input_and_the_output_is_checked_beside_its_activation(tmp_path):
    path = planted(tmp_path, "swish_net.py", SWISH, "return a + sigmoid(z) * (1.0 - a)", "return a + sigmoid(z) * (1.0 - z)")
    root = _root(check(path, "--no-run"))
    assert root["line"] == line_of(path, "return a + sigmoid(z)") and "swish_prime" in root["message"]
    _clean(check(write(tmp_path / "ok", "swish_net.py", SWISH), "--no-run"))


def test_a_derivative_handed_a_layer_lists_entries_is_the_root_not_the_update(tmp_path):
    path = planted(tmp_path, "deep_tanh.py", TANH_LIST, "return 1.0 - y ** 2", "return 1.0 - x ** 2")
    root = _root(check(path))
    assert root["line"] == line_of(path, "return 1.0 - x ** 2"), root
    _clean(check(write(tmp_path / "ok", "deep_tanh.py", TANH_LIST)))


# ---------------------------------------------------------------- blocks called, holding the layers they call


def test_a_skip_path_the_blocks_backward_drops_is_named_in_the_block(tmp_path):
    correct = "        dx = dy + self.inner.back(dy * (1 - self.h ** 2))\n"
    path = planted(tmp_path, "skip.py", SKIP_BLOCK, correct, "        dx = self.inner.back(dy * (1 - self.h ** 2))\n")
    root = _root(check(path))
    assert root["line"] == line_of(path, "dx = self.inner.back("), root
    assert "Skip" in root["message"]
    _clean(check(write(tmp_path / "ok", "skip.py", SKIP_BLOCK)))


def test_a_branch_left_out_of_the_input_gradient_is_named_in_the_block(tmp_path):
    correct = "        gx = self.left.back(grad * (self.a > 0)) + self.right.back(grad)\n"
    wrong = "        gx = self.left.back(grad * (self.a > 0))\n        self.right.back(grad)\n"
    path = planted(tmp_path, "paths.py", TWO_PATHS, correct, wrong)
    root = _root(check(path))
    assert root["line"] == line_of(path, "gx = self.left.back("), root
    assert "TwoPaths" in root["message"]
    _clean(check(write(tmp_path / "ok", "paths.py", TWO_PATHS)))
