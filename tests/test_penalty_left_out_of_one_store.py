"""A loss with an L2 penalty on every weight matrix whose function stores every weight's gradient with the
penalty's term (`g['W3'] = dW3 + lam * W3`) but one (`g['W2'] = dW2`). The root is that store, with the term
the others write added as its fix; the data terms (`dW3`, `dW2`, which the penalty's term is added to after
they are computed) are never reported as wrong gradients of the weights."""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted, write

# function pairs with a cache, a dict of gradients, the weights unpacked before the forward pass
FUNCTIONS = '''\
import numpy as np

rs = np.random.RandomState(5)


def dense_fwd(a, W, b):
    return a @ W + b, (a, W)


def dense_bwd(g, saved):
    a, W = saved
    da = g @ W.T
    dW = a.T @ g
    return da, dW, g.sum(axis=0)


def tanh_fwd(z):
    t = np.tanh(z)
    return t, t


def tanh_bwd(g, t):
    return g * (1.0 - t * t)


def mse(pred, target):
    diff = pred - target
    n = pred.shape[0]
    return 0.5 * np.sum(diff * diff) / n, diff / n


def init(sizes):
    net = {}
    for i in range(len(sizes) - 1):
        net['W%d' % (i + 1)] = rs.randn(sizes[i], sizes[i + 1]) * 0.3
        net['b%d' % (i + 1)] = np.zeros(sizes[i + 1])
    return net


def objective(net, xb, yb, lam):
    W1, W2, W3 = net['W1'], net['W2'], net['W3']
    h1, c1 = dense_fwd(xb, W1, net['b1'])
    a1, t1 = tanh_fwd(h1)
    h2, c2 = dense_fwd(a1, W2, net['b2'])
    a2, t2 = tanh_fwd(h2)
    out, c3 = dense_fwd(a2, W3, net['b3'])
    data, dout = mse(out, yb)
    penalty = 0.5 * lam * (np.sum(W1 ** 2) + np.sum(W2 ** 2) + np.sum(W3 ** 2))
    total = data + penalty
    g = {}
    da2, dW3, g['b3'] = dense_bwd(dout, c3)
    g['W3'] = dW3 + lam * W3
    dh2 = tanh_bwd(da2, t2)
    da1, dW2, g['b2'] = dense_bwd(dh2, c2)
    g['W2'] = dW2 + lam * W2
    dh1 = tanh_bwd(da1, t1)
    _, dW1, g['b1'] = dense_bwd(dh1, c1)
    g['W1'] = dW1 + lam * W1
    return total, g


X = rs.randn(120, 6)
Y = np.sin(X[:, :2]) + 0.1 * X[:, 2:4]
net = init([6, 12, 10, 2])
lam = 1e-2
step_size = 0.1
for epoch in range(150):
    pick = rs.choice(len(X), 32, replace=False)
    total, g = objective(net, X[pick], Y[pick], lam)
    for name in net:
        net[name] -= step_size * g[name]
print(total)
'''

# a class network holding `self.params` and `self.reg`, its weights unpacked after the forward pass read them
CLASS = '''\
import numpy as np


class ThreeLayerNet:
    def __init__(self, d_in, h1, h2, d_out, reg=0.0, seed=0):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            'W1': rng.normal(0, 0.2, (d_in, h1)), 'b1': np.zeros(h1),
            'W2': rng.normal(0, 0.2, (h1, h2)), 'b2': np.zeros(h2),
            'W3': rng.normal(0, 0.2, (h2, d_out)), 'b3': np.zeros(d_out),
        }

    def loss(self, X, y):
        p = self.params
        z1 = X @ p['W1'] + p['b1']
        r1 = np.maximum(z1, 0)
        z2 = r1 @ p['W2'] + p['b2']
        r2 = np.maximum(z2, 0)
        logits = r2 @ p['W3'] + p['b3']
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        m = X.shape[0]
        data_loss = -np.mean(np.log(probs[np.arange(m), y]))
        W1, W2, W3 = p['W1'], p['W2'], p['W3']
        loss = data_loss + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
        grads = {}
        dlogits = probs.copy()
        dlogits[np.arange(m), y] -= 1
        dlogits /= m
        dW3 = r2.T @ dlogits
        grads['W3'] = dW3 + self.reg * W3
        grads['b3'] = dlogits.sum(axis=0)
        dr2 = dlogits @ W3.T
        dz2 = dr2 * (z2 > 0)
        dW2 = r1.T @ dz2
        grads['W2'] = dW2 + self.reg * W2
        grads['b2'] = dz2.sum(axis=0)
        dr1 = dz2 @ W2.T
        dz1 = dr1 * (z1 > 0)
        dW1 = X.T @ dz1
        grads['W1'] = dW1 + self.reg * W1
        grads['b1'] = dz1.sum(axis=0)
        return loss, grads


rng = np.random.default_rng(11)
X = rng.normal(size=(150, 5))
y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
net = ThreeLayerNet(5, 16, 12, 3, reg=2e-3)
for it in range(200):
    idx = rng.integers(0, 150, 40)
    loss, grads = net.loss(X[idx], y[idx])
    for k, v in net.params.items():
        v -= 0.2 * grads[k]
print(loss)
'''

CASES = {
    "functions": (FUNCTIONS, "g['W2'] = dW2 + lam * W2", "g['W2'] = dW2", "lam * W2"),
    "class": (CLASS, "grads['W2'] = dW2 + self.reg * W2", "grads['W2'] = dW2", "self.reg * W2"),
}


@pytest.mark.parametrize("style", sorted(CASES))
def test_every_store_with_its_penalty_term_is_clean(tmp_path, style):
    report = check(write(tmp_path, f"{style}.py", CASES[style][0]))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []


@pytest.mark.parametrize("style", sorted(CASES))
def test_the_store_without_its_penalty_term_is_the_root(tmp_path, style):
    program, right, wrong, term = CASES[style]
    path = planted(tmp_path, f"{style}.py", program, right + "\n", wrong + "\n")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["pattern"]) == ("BPD101", line_of(path, wrong), "penalty-left-out")
    assert root["fix"] == right
    assert f"without the penalty's term `{term}`" in root["message"]
    assert f"write `{right}`" in root["message"]
    # the data terms the penalty is added to are right as they are: no finding says otherwise
    for finding in report["findings"]:
        assert "`dW3`" not in finding["message"] and "`dW2` (line" not in finding["message"], finding["message"]
