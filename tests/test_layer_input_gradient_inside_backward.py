"""A layer's `backward(self, dout)` returns the gradient of the input its class's `forward(self, x)`
takes (`return dx`, `return dx.reshape(self.shape)`). When the step's `dh = norm.backward(dz)` is
wrong, the walk goes into that method: `dx` is measured against `forward`'s argument `x` (moved as
the method receives it), so the line named is the method's own, not the step's call."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

SCRIPT = '''\
import numpy as np


class LayerNorm:
    def __init__(self, width, eps=1e-5):
        self.gamma = np.ones(width)
        self.eps = eps

    def forward(self, x):
        mean = x.mean(axis=1, keepdims=True)
        self.inv = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + self.eps)
        self.xhat = (x - mean) * self.inv
        return self.xhat * self.gamma

    def backward(self, dout):
        self.dgamma = np.sum(dout * self.xhat, axis=0)
        dxhat = dout * self.gamma
        centred = dxhat - dxhat.mean(axis=1, keepdims=True)
        dx = self.inv * (centred - self.xhat * (dxhat * self.xhat).mean(axis=1, keepdims=True))
        return dx


rng = np.random.default_rng(12)
X = rng.normal(size=(100, 6))
labels = (X[:, 0] * X[:, 1] > 0).astype(int)
W1 = rng.normal(0, 0.5, (6, 8))
norm = LayerNorm(8)
W2 = rng.normal(0, 0.5, (8, 2))
lr = 0.2
for it in range(200):
    h = X @ W1
    z = norm.forward(h)
    r = np.maximum(z, 0)
    logits = r @ W2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(X)), labels]))
    dlogits = p.copy()
    dlogits[np.arange(len(X)), labels] -= 1
    dlogits /= len(X)
    dW2 = r.T @ dlogits
    dr = dlogits @ W2.T
    dz = dr * (z > 0)
    dh = norm.backward(dz)
    dW1 = X.T @ dh
    W1 -= lr * dW1
    W2 -= lr * dW2
    norm.gamma -= lr * norm.dgamma
    if it % 40 == 0:
        print(it, loss)
'''

IN_A_FUNCTION = '''\
import numpy as np


class GroupCentre:
    """Subtracts each group's mean: x (n, c) seen as (n, groups, c // groups)."""

    def __init__(self, groups):
        self.groups = groups

    def forward(self, x):
        self.shape = x.shape
        xg = x.reshape(x.shape[0], self.groups, -1)
        return (xg - xg.mean(axis=2, keepdims=True)).reshape(x.shape)

    def backward(self, dout):
        dg = dout.reshape(dout.shape[0], self.groups, -1)
        dx = dg - dg.mean(axis=2, keepdims=True)
        return dx.reshape(self.shape)


def train(X, t, steps=150, lr=0.05):
    rng = np.random.default_rng(1)
    A = rng.normal(0, 0.4, (X.shape[1], 12))
    B = rng.normal(0, 0.4, (12, 1))
    centre = GroupCentre(3)
    for i in range(steps):
        u = X @ A
        c = centre.forward(u)
        q = np.tanh(c)
        out = q @ B
        loss = 0.5 * np.mean((out - t) ** 2)
        dout = (out - t) / len(X)
        dB = q.T @ dout
        dq = dout @ B.T
        dc = dq * (1 - q ** 2)
        du = centre.backward(dc)
        dA = X.T @ du
        A -= lr * dA
        B -= lr * dB
        if i % 30 == 0:
            print(i, loss)


rng = np.random.default_rng(3)
X = rng.normal(size=(60, 5))
t = np.sin(X[:, :1]) + X[:, 1:2]
train(X, t)
'''

NORM = "        dx = self.inv * (centred - self.xhat * (dxhat * self.xhat).mean(axis=1, keepdims=True))\n"
CENTRE = "        dx = dg - dg.mean(axis=2, keepdims=True)\n"


def test_a_wrong_input_gradient_of_a_layer_is_named_in_its_backward(tmp_path):
    path = planted(tmp_path, "norm.py", SCRIPT, NORM, NORM.replace("self.xhat * (dxhat", "(dxhat"))
    report = check(path)
    first = report["findings"][report["root_cause"]]  # the layer's own gradient check comes after it
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "dx = self.inv")
    assert "`x`" in first["message"]
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["dxhat"]["wrong"] is False and walked["dx"]["wrong"] is True


def test_the_correct_layer_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "norm.py", SCRIPT, NORM, NORM))) == []


def test_a_gradient_handed_back_reshaped_is_named_in_the_backward(tmp_path):
    path = planted(tmp_path, "centre.py", IN_A_FUNCTION, CENTRE, CENTRE.replace("axis=2", "axis=1"))
    report = check(path)
    first = report["findings"][report["root_cause"]]
    assert first["name"] == "step-gradient-mismatch"
    assert first["line"] == line_of(path, "dx = dg - dg.mean(axis=1")


def test_the_correct_reshaping_layer_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "centre.py", IN_A_FUNCTION, CENTRE, CENTRE))) == []
