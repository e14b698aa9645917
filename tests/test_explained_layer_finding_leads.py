"""A layer whose own check explains its wrong gradient at its line (a residual block whose backward leaves
out the skip connection) is the headline, not the adjoint of the training step that calls it: the
replay only sees the error arrive where the block's result is used. The correct twins are clean."""

from __future__ import annotations

import pytest

from userfiles import check, errors, line_of, planted

BLOCK = """\
    import numpy as np

    class Skip:
        def __init__(self, width, rng):
            self.W = rng.normal(0, 0.3 / np.sqrt(width), (width, width))
            self.b = np.zeros(width)

        def forward(self, h):
            self.h = h
            self.z = h @ self.W + self.b
            return h + np.maximum(self.z, 0)

        def backward(self, g):
            gz = g * (self.z > 0)
            self.dW = self.h.T @ gz
            self.db = gz.sum(axis=0)
            return g + gz @ self.W.T
"""

SCRIPT = BLOCK + """\

    rng = np.random.default_rng(2)
    X = rng.standard_normal((120, 6))
    T = (X[:, 0] * X[:, 1] > 0).astype(int)
    Win, Wout = rng.standard_normal((6, 16)) * 0.4, rng.standard_normal((16, 2)) * 0.3
    blocks = [Skip(16, rng), Skip(16, rng)]
    for epoch in range(60):
        a = X @ Win
        h = np.tanh(a)
        for blk in blocks:
            h = blk.forward(h)
        s = h @ Wout
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(T)), T]).mean()
        ds = p.copy()
        ds[np.arange(len(T)), T] -= 1
        ds /= len(T)
        dWout = h.T @ ds
        dh = ds @ Wout.T
        for blk in reversed(blocks):
            dh = blk.backward(dh)
        da = dh * (1 - np.tanh(a) ** 2)
        dWin = X.T @ da
        Win -= 0.2 * dWin
        Wout -= 0.2 * dWout
        for blk in blocks:
            blk.W -= 0.2 * blk.dW
            blk.b -= 0.2 * blk.db
"""

CLASS = BLOCK + """\

    class Net:
        def __init__(self, rng):
            self.first = rng.standard_normal((4, 10)) * 0.5
            self.blocks = [Skip(10, rng) for _ in range(3)]
            self.last = rng.standard_normal((10, 1)) * 0.3

        def loss_and_grads(self, x, y):
            u = x @ self.first
            h = np.maximum(u, 0)
            for blk in self.blocks:
                h = blk.forward(h)
            out = h @ self.last
            loss = 0.5 * np.mean((out - y) ** 2)
            dout = (out - y) / len(x)
            grads = {"last": h.T @ dout}
            dh = dout @ self.last.T
            for blk in reversed(self.blocks):
                dh = blk.backward(dh)
            du = dh * (u > 0)
            grads["first"] = x.T @ du
            return loss, grads

    rng = np.random.default_rng(9)
    X = rng.standard_normal((80, 4))
    Y = np.sin(X[:, :1]) + X[:, 1:2]
    net = Net(rng)
    for it in range(80):
        loss, grads = net.loss_and_grads(X, Y)
        net.first -= 0.05 * grads["first"]
        net.last -= 0.05 * grads["last"]
        for blk in net.blocks:
            blk.W -= 0.05 * blk.dW
            blk.b -= 0.05 * blk.db
"""


@pytest.mark.parametrize("program", [SCRIPT, CLASS], ids=["script-with-a-list-of-blocks", "network-class"])
def test_a_block_that_leaves_out_its_skip_is_the_headline_at_its_return(tmp_path, program):
    path = planted(tmp_path, "resnet.py", program, "return g + gz @ self.W.T", "return gz @ self.W.T")
    report = check(path)
    head = report["findings"][report["root_cause"]]
    assert head["severity"] == "error" and head["layer"] == "Skip", report["findings"]
    assert head["line"] == line_of(path, "return gz @ self.W.T"), head
    assert "skip" in head["message"], head["message"]


@pytest.mark.parametrize("program", [SCRIPT, CLASS], ids=["script-with-a-list-of-blocks", "network-class"])
def test_with_the_skip_added_back_it_is_clean(tmp_path, program):
    report = check(planted(tmp_path, "resnet.py", program, "return g + gz @ self.W.T", "return g + gz @ self.W.T"))
    assert not errors(report), errors(report)
    assert any(m["layer"] == "Skip" for m in report["measurements"]), report["measurements"]
