"""Layer objects whose forward returns its output beside a cache (`return out, cache`) that the caller hands
back to `backward(dout, cache)`: the output is what is checked, the cache is handed back as the program
does, and the parameters' gradients are read from what backward returns after dx (one tuple in the order
of the layer's `get_params()`, or one value each, named for its parameter). Both as the file's class alone
and as the program's own run calls it; a planted mistake in that backward is still found."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, planted

# style 1: the class alone; the cache is a tuple, the gradients one tuple in `get_params()` order
CLASS_ALONE = """\
    import numpy as np


    class TanhDense:
        def __init__(self, n_in, n_out):
            rs = np.random.RandomState(3)
            self.W = rs.randn(n_in, n_out) * 0.3
            self.b = rs.randn(n_out) * 0.1

        def get_params(self):
            return (self.W, self.b)

        def forward(self, x):
            W, b = self.get_params()
            out = np.tanh(x @ W + b)
            cache = (x, out)
            return out, cache

        def backward(self, dout, cache):
            W, b = self.get_params()
            x, out = cache
            dpre = dout * (1.0 - out ** 2)
            dW = x.T @ dpre
            db = dpre.sum(axis=0)
            return dpre @ W.T, (dW, db)
"""

# style 2: a script; the cache is the input itself under the name backward takes, gradients one each
SCRIPT = """\
    import numpy as np

    rng = np.random.default_rng(11)


    class Softplus:
        def __init__(self, fan_in, fan_out):
            self.weight = rng.normal(0, 0.3, (fan_in, fan_out))
            self.bias = np.zeros(fan_out)

        def forward(self, inputs):
            z = inputs @ self.weight + self.bias
            saved = inputs
            return np.log1p(np.exp(z)), saved

        def backward(self, grad, saved):
            z = saved @ self.weight + self.bias
            local = grad / (1.0 + np.exp(-z))
            d_inputs = local @ self.weight.T
            d_weight = saved.T @ local
            d_bias = local.sum(axis=0)
            return d_inputs, d_weight, d_bias


    layer = Softplus(3, 2)
    X = rng.normal(size=(32, 3))
    Y = np.abs(X[:, :2])
    for epoch in range(25):
        pred, saved = layer.forward(X)
        loss = np.mean((pred - Y) ** 2)
        grad = 2 * (pred - Y) / pred.size
        _, gw, gb = layer.backward(grad, saved)
        layer.weight -= 0.5 * gw
        layer.bias -= 0.5 * gb
"""

PROGRAMS = {
    "tanh_dense.py": (CLASS_ALONE, "TanhDense", {"x", "W", "b"}, "dW = x.T @ dpre", "dW = x.T @ dout"),
    "softplus.py": (SCRIPT, "Softplus", {"x", "weight", "bias"}, "d_bias = local.sum(axis=0)", "d_bias = grad.sum(axis=0)"),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_cache_is_handed_back_and_every_gradient_checked(tmp_path: Path, name: str) -> None:
    text, layer, params, correct, _ = PROGRAMS[name]
    report = check(planted(tmp_path, name, text, correct, correct))
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["name"] == "nothing-to-check"], report["findings"]
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}
    assert verdicts == dict.fromkeys(params, "ok"), report["measurements"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_planted_mistake_in_that_backward_is_found(tmp_path: Path, name: str) -> None:
    text, layer, params, correct, wrong = PROGRAMS[name]
    found = errors(check(planted(tmp_path, name, text, correct, wrong)))
    assert any(f["name"] == "gradient-mismatch" and f["layer"] == layer for f in found), found
