"""Wrong gradients of several parameters that all come from one backward statement, where the step's
walk has no forward value to measure that statement's adjoint by (`np.tanh(X @ P + p)` written inline,
a loop over the layers). The report names that statement, not the gradients' own lines:

* the updates write their gradients out themselves (`self.P -= lr * X.T @ g1`, `self.p -= lr *
  g1.sum(axis=0)`): both read `g1`, so `g1`'s statement is where to look (a transpose left out of a
  square matrix, which no shape shows);
* a loop over a list of layers computes the gradients with the same lines on every pass, and the
  next pass's adjoint at its end (`delta = (delta @ W[j].T) * slope(pre[j - 1])`): the last layer's
  gradients, from the adjoint made before the loop, are right and the others wrong, so the statement
  that carries the adjoint to the next pass is the one (an index off by one);
* the same with the layers in dicts and the adjoint copied (`dU = dH`) from a ReLU's masked gradient:
  a mask by the gradient's own sign (`dH[dH <= 0] = 0`) is named, with what it should mask by.

Each correct twin is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

INLINE = """\
import numpy as np

gen = np.random.default_rng(5)
X = gen.normal(size=(240, 6))
labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 0.5).astype(int)


class Net:
    def __init__(self):
        self.P = gen.normal(size=(6, 12)) * 0.4
        self.p = np.zeros(12)
        self.Q = gen.normal(size=(12, 12)) * 0.3
        self.q = np.zeros(12)
        self.R = gen.normal(size=(12, 3)) * 0.3
        self.r = np.zeros(3)

    def learn(self, X, labels, passes, lr):
        T = np.eye(3)[labels]
        for _ in range(passes):
            h1 = np.tanh(X @ self.P + self.p)
            h2 = np.tanh(h1 @ self.Q + self.q)
            s = h2 @ self.R + self.r
            e = np.exp(s - s.max(axis=1, keepdims=True))
            e /= e.sum(axis=1, keepdims=True)
            g3 = (e - T) / len(X)
            g2 = g3 @ self.R.T * (1 - h2 ** 2)
            g1 = g2 @ self.Q.T * (1 - h1 ** 2)
            self.R -= lr * h2.T @ g3
            self.r -= lr * g3.sum(axis=0)
            self.Q -= lr * h1.T @ g2
            self.q -= lr * g2.sum(axis=0)
            self.P -= lr * X.T @ g1
            self.p -= lr * g1.sum(axis=0)


Net().learn(X, labels, 200, 0.5)
"""

LAYER_LIST = """\
import numpy as np


def leaky(v):
    return np.where(v > 0, v, 0.1 * v)


def leaky_slope(v):
    return np.where(v > 0, 1.0, 0.1)


class Stack:
    def __init__(self, widths, seed=2):
        gen = np.random.default_rng(seed)
        self.weights = [gen.normal(size=(m, k)) * np.sqrt(1.0 / m) for m, k in zip(widths[:-1], widths[1:])]
        self.biases = [np.zeros((1, k)) for k in widths[1:]]

    def run(self, x):
        self.pre, self.post = [], [x]
        for j, (M, o) in enumerate(zip(self.weights, self.biases)):
            u = self.post[-1] @ M + o
            self.pre.append(u)
            self.post.append(u if j == len(self.weights) - 1 else leaky(u))
        return self.post[-1]

    def backward(self, t, lr):
        delta = (self.post[-1] - t) / len(t)
        for j in range(len(self.weights) - 1, -1, -1):
            dM = self.post[j].T @ delta
            dO = delta.sum(axis=0, keepdims=True)
            if j > 0:
                delta = (delta @ self.weights[j].T) * leaky_slope(self.pre[j - 1])
            self.weights[j] -= lr * dM
            self.biases[j] -= lr * dO


gen = np.random.default_rng(7)
X = gen.uniform(-1, 1, size=(300, 3))
t = (X[:, :1] * X[:, 1:2] + np.cos(X[:, 2:]))
net = Stack([3, 10, 10, 1])
for epoch in range(400):
    out = net.run(X)
    cost = 0.5 * np.mean(np.sum((out - t) ** 2, axis=1))
    net.backward(t, 0.1)
"""

LAYER_DICTS = """\
import numpy as np

gen = np.random.default_rng(3)
X = gen.normal(size=(200, 2))
T = (np.sum(X ** 2, axis=1) < 1.5).astype(float).reshape(-1, 1)
sizes = [2, 8, 8, 1]
K = {}
c = {}
for i in range(1, 4):
    K[i] = gen.normal(size=(sizes[i - 1], sizes[i])) * np.sqrt(2.0 / sizes[i - 1])
    c[i] = np.zeros((1, sizes[i]))
for it in range(600):
    H = {0: X}
    U = {}
    for i in range(1, 4):
        U[i] = H[i - 1] @ K[i] + c[i]
        H[i] = np.maximum(U[i], 0) if i < 3 else 1 / (1 + np.exp(-U[i]))
    P = H[3]
    loss = -np.mean(T * np.log(P) + (1 - T) * np.log(1 - P))
    dK = {}
    dc = {}
    dU = (P - T) / len(X)
    for i in range(3, 0, -1):
        dK[i] = H[i - 1].T @ dU
        dc[i] = dU.sum(axis=0, keepdims=True)
        if i > 1:
            dH = dU @ K[i].T
            dH[U[i - 1] <= 0] = 0
            dU = dH
    for i in range(1, 4):
        K[i] -= 0.3 * dK[i]
        c[i] -= 0.3 * dc[i]
"""


def _one(path):
    (found,) = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    return found


def test_the_correct_twins_are_clean(tmp_path):
    for name, program in (("inline.py", INLINE), ("layers.py", LAYER_LIST), ("dicts.py", LAYER_DICTS)):
        assert errors(check(write(tmp_path, name, program))) == [], name


def test_updates_that_write_their_gradients_out_are_traced_to_the_adjoint_they_share(tmp_path):
    path = planted(tmp_path, "inline.py", INLINE, "g1 = g2 @ self.Q.T *", "g1 = g2 @ self.Q *")
    found = _one(path)
    assert found["line"] == line_of(path, "g1 = g2 @ self.Q *")
    assert found["pattern"] == "wrong-derivative"
    assert "every one of them is computed from `g1`" in found["message"]


def test_a_loop_over_layers_is_traced_to_the_statement_that_carries_the_adjoint(tmp_path):
    path = planted(tmp_path, "layers.py", LAYER_LIST, "leaky_slope(self.pre[j - 1])", "leaky_slope(self.pre[j])")
    found = _one(path)
    assert found["line"] == line_of(path, "delta = (delta @ self.weights[j].T)")
    assert "the same lines give `net.weights[2]` and `net.biases[2]` a right gradient" in found["message"]


def test_a_relu_mask_by_the_gradients_own_sign_is_named(tmp_path):
    path = planted(tmp_path, "dicts.py", LAYER_DICTS, "dH[U[i - 1] <= 0] = 0", "dH[dH <= 0] = 0")
    found = _one(path)
    assert found["line"] == line_of(path, "dH[dH <= 0] = 0")
    assert "zeroes `dH` where `dH` itself is not positive" in found["message"]
