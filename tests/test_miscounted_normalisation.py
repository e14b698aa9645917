"""A normalisation's backward whose count (`m = N`) counts other axes than its forward pass averages
over (`x.mean(axis=(0, 2, 3))`: N * H * W values per channel). The input gradient is wrong at the
statement that uses the count, which is right for the count it is given: the root finding names the
count's statement, with the count the forward takes. Two styles: cs231n function pairs driven by a
training loop (the replay's finding), and a class layer normalising each sample's features, checked on its own
(the layer check's)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from backprop_doctor.static.counts import forward_twin, miscounted
from tests.userfiles import check, errors, line_of, planted, write

FUNCTIONS = """\
    import numpy as np


    def channel_norm_forward(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=(0, 2, 3), keepdims=True)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        inv = 1.0 / np.sqrt(var + eps)
        xn = (x - mu) * inv
        out = gamma[None, :, None, None] * xn + beta[None, :, None, None]
        return out, (xn, inv, gamma)


    def channel_norm_backward(dout, cache):
        xn, inv, gamma = cache
        count = dout.shape[0] * dout.shape[2] * dout.shape[3]
        dbeta = dout.sum(axis=(0, 2, 3))
        dgamma = (dout * xn).sum(axis=(0, 2, 3))
        dxn = dout * gamma[None, :, None, None]
        dx = inv / count * (count * dxn - dxn.sum(axis=(0, 2, 3), keepdims=True)
                            - xn * (dxn * xn).sum(axis=(0, 2, 3), keepdims=True))
        return dx, dgamma, dbeta


    def mix_forward(x, w):
        return np.einsum("oc,nchw->nohw", w, x), (x, w)


    def mix_backward(dout, cache):
        x, w = cache
        return np.einsum("oc,nohw->nchw", w, dout), np.einsum("nohw,nchw->oc", dout, x)


    def model(params, X, y):
        h1, c1 = mix_forward(X, params["M"])
        h2, c2 = channel_norm_forward(h1, params["g"], params["b"])
        scores = h2.reshape(len(X), -1) @ params["V"]
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(X)), y]).mean()
        ds = p.copy()
        ds[np.arange(len(X)), y] -= 1
        ds /= len(X)
        grads = {"V": h2.reshape(len(X), -1).T @ ds}
        dh2 = (ds @ params["V"].T).reshape(h2.shape)
        dh1, grads["g"], grads["b"] = channel_norm_backward(dh2, c2)
        _, grads["M"] = mix_backward(dh1, c1)
        return loss, grads


    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2, 3, 3))
    y = rng.integers(0, 3, 60)
    X[y == 1, 0] += 1.0
    X[y == 2, 1] += 1.0
    params = {"M": rng.normal(0, 0.5, (3, 2)), "g": np.ones(3), "b": np.zeros(3), "V": rng.normal(0, 0.1, (27, 3))}
    for it in range(60):
        loss, grads = model(params, X, y)
        for k in params:
            params[k] -= 0.1 * grads[k]
"""

CLASS = """\
    import numpy as np


    class FeatureNorm:
        def __init__(self, channels):
            self.gamma = np.ones(channels)
            self.beta = np.zeros(channels)

        def forward(self, x):
            self.mu = x.mean(axis=(1, 2, 3), keepdims=True)
            self.inv = 1.0 / np.sqrt(x.var(axis=(1, 2, 3), keepdims=True) + 1e-5)
            self.xhat = (x - self.mu) * self.inv
            return self.gamma.reshape(1, -1, 1, 1) * self.xhat + self.beta.reshape(1, -1, 1, 1)

        def backward(self, dout):
            N, C, H, W = dout.shape
            n = C * H * W
            self.dgamma = (dout * self.xhat).sum(axis=(0, 2, 3))
            self.dbeta = dout.sum(axis=(0, 2, 3))
            dxhat = dout * self.gamma.reshape(1, -1, 1, 1)
            return self.inv / n * (n * dxhat - dxhat.sum(axis=(1, 2, 3), keepdims=True)
                                   - self.xhat * (dxhat * self.xhat).sum(axis=(1, 2, 3), keepdims=True))


    layer = FeatureNorm(3)
    out = layer.forward(np.random.default_rng(0).normal(size=(8, 3, 4, 4)))
    layer.backward(np.ones_like(out))
"""


def _root(report: dict) -> dict:
    return next(f for f in errors(report) if not f.get("caused_by"))


def test_a_count_of_the_batch_alone_is_named_in_function_pairs_trained_by_a_loop(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "norm.py", FUNCTIONS), training=True)) == []
    path = planted(tmp_path, "norm.py", FUNCTIONS, "count = dout.shape[0] * dout.shape[2] * dout.shape[3]", "count = dout.shape[0]")
    report = check(path, training=True)
    root = _root(report)
    assert root["line"] == line_of(path, "count = dout.shape[0]")
    assert root["pattern"] == "miscounted"
    assert "channel_norm_forward" in root["message"] and "axes 0, 2 and 3" in root["message"]
    layer = next(f for f in errors(report) if f["code"] == "BPD101" and f["param"] == "x")
    assert layer["line"] == line_of(path, "count = dout.shape[0]")  # the layer's own check names it too


def test_a_count_leaving_out_an_axis_is_named_in_a_class_layer(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "norm.py", CLASS))) == []
    path = planted(tmp_path, "norm.py", CLASS, "n = C * H * W", "n = C * H")
    root = _root(check(path))
    assert root["line"] == line_of(path, "n = C * H")
    assert root["pattern"] == "miscounted"
    assert root["fix"] == "n = C * H * W"


def test_a_wrong_formula_with_the_right_count_keeps_its_own_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "norm.py", CLASS, "(n * dxhat - dxhat.sum", "(n * dxhat + dxhat.sum")
    root = _root(check(path))
    assert root["line"] != line_of(path, "n = C * H * W")
    assert root["pattern"] != "miscounted"


def test_miscounted_reads_counts_and_the_forward_axes() -> None:
    tree = ast.parse(textwrap.dedent("""\
        class LayerNorm:
            def forward(self, x):
                self.mu = x.mean(axis=-1, keepdims=True)
                return x - self.mu

            def backward(self, dout):
                N, D = dout.shape
                m = D
                k = float(N)
                a = dout - dout.sum(axis=-1, keepdims=True) / m
                return a - dout.sum(axis=-1, keepdims=True) / k
    """))
    backward = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "backward")
    forward = forward_twin(tree, backward)
    assert forward is not None and forward.name == "forward"
    assert miscounted(backward, forward, 10) is None  # `m = D`: the last axis, as `axis=-1` of a 2-D input
    found = miscounted(backward, forward, 11)
    assert found is not None and (found.line, found.axes, found.forward_axes, found.fix) == (9, (0,), (1,), "k = D")


def test_a_loss_dividing_by_its_batch_is_no_miscount() -> None:
    tree = ast.parse(textwrap.dedent("""\
        def softmax_loss_forward(x, y):
            e = np.exp(x - x.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            return -np.log(p[np.arange(len(y)), y]).mean(), (p, y)

        def softmax_loss_backward(dout, cache):
            p, y = cache
            N = p.shape[0]
            dx = p.copy()
            dx[np.arange(N), y] -= 1
            dx = dout * dx / N
            return dx
    """))
    backward = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "softmax_loss_backward")
    forward = forward_twin(tree, backward)
    assert forward is not None and forward.name == "softmax_loss_forward"
    assert miscounted(backward, forward, 11) is None
