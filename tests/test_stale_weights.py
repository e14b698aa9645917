"""A gradient computed from weights the same step has already updated.

Layers that update themselves inside `backward` and scripts that update each layer as soon as its
gradient is known often compute the next gradient from the weights they just moved
(`self.W -= lr * dW` before `dx = grad @ self.W.T`; `W2 -= lr * dW2` before `d_h = d_out @ W2.T`).
The numbers say only that the gradient is off, by a little at a small rate; the report names the
read, the update before it, and the order to write them in.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SELF_UPDATING = """\
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, grad, lr=0.1):
            dW = self.x.T @ grad
            db = grad.sum(axis=0)
            dx = grad @ self.W.T
            self.W -= lr * dW
            self.b -= lr * db
            return dx

    if __name__ == "__main__":
        np.random.seed(0)
        layer = Dense(3, 4)
        out = layer.forward(np.random.randn(8, 3))
        dx = layer.backward(np.ones_like(out) / out.size)
"""

DX_FIRST = """        dx = grad @ self.W.T
        self.W -= lr * dW
        self.b -= lr * db
"""
DX_LAST = """        self.W -= lr * dW
        self.b -= lr * db
        dx = grad @ self.W.T
"""

INTERLEAVED = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    y = np.sin(X[:, :1]) + X[:, 1:2]
    W1 = rng.normal(scale=0.5, size=(4, 10))
    W2 = rng.normal(scale=0.5, size=(10, 1))
    lr = 0.1

    for epoch in range(300):
        h = np.tanh(X @ W1)
        out = h @ W2
        loss = np.mean((out - y) ** 2)
        d_out = 2 * (out - y) / len(X)
        dW2 = h.T @ d_out
        d_h = (d_out @ W2.T) * (1 - h ** 2)
        W2 -= lr * dW2
        dW1 = X.T @ d_h
        W1 -= lr * dW1
"""

D_H_FIRST = """    d_h = (d_out @ W2.T) * (1 - h ** 2)
    W2 -= lr * dW2
"""
W2_FIRST = """    W2 -= lr * dW2
    d_h = (d_out @ W2.T) * (1 - h ** 2)
"""


def test_a_layer_that_updates_its_weights_before_computing_dx_is_told_the_order(tmp_path):
    path = planted(tmp_path, "dense.py", SELF_UPDATING, DX_FIRST, DX_LAST)
    found = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    (finding,) = [f for f in found if f["param"] == "x"]
    read, moved = line_of(path, "dx = grad @ self.W.T"), line_of(path, "self.W -= lr * dW")
    assert (finding["line"], finding["pattern"], finding["highlight"]) == (read, "stale-weights", [moved, read])
    assert f"from `self.W`, which line {moved} has already updated" in finding["message"]
    assert finding["fix"] is None  # `dx = np.dot(grad, self.W.T)` is what the line already says


def test_the_layer_that_computes_dx_first_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "dense.py", SELF_UPDATING))) == []


def test_a_script_that_updates_a_layer_before_the_gradient_below_it_reads_it_is_told_the_order(tmp_path):
    path = planted(tmp_path, "train.py", INTERLEAVED, D_H_FIRST, W2_FIRST)
    (finding,) = errors(check(path))
    read, moved = line_of(path, "d_h = (d_out @ W2.T)"), line_of(path, "W2 -= lr * dW2")
    assert (finding["name"], finding["line"], finding["pattern"]) == ("step-gradient-mismatch", read, "stale-weights")
    assert moved in finding["highlight"] and read in finding["highlight"]
    assert f"computed from `W2` at line {read}, after line {moved} has already updated `W2`" in finding["message"]
    assert "`W1`" in finding["message"]


def test_the_script_that_computes_every_gradient_first_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "train.py", INTERLEAVED))) == []
