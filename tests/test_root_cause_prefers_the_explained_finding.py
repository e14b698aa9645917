"""When a model's gradient is wrong because a function pair it calls is wrong, both are reported;
the headline is the pair's finding that says what is wrong at its line (a relu's derivative
computed and never used), not the model's, which only measured that its own gradient is off."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

PAIRS = """\
    import numpy as np


    def dense_forward(x, w, b):
        return x @ w + b, (x, w)


    def dense_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)


    def dense_relu_forward(x, w, b):
        z, dense_cache = dense_forward(x, w, b)
        return np.maximum(z, 0), (dense_cache, z)


    def dense_relu_backward(dout, cache):
        dense_cache, z = cache
        dz = dout * (z > 0)
        dx, dw, db = dense_backward(dz, dense_cache)
        return dx, dw, db


    def softmax_loss(scores, y):
        shifted = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = len(y)
        loss = -np.log(p[np.arange(n), y]).mean()
        p[np.arange(n), y] -= 1
        return loss, p / n


    class Classifier:
        def __init__(self, dims=(3, 20, 3), scale=0.3, seed=1):
            rs = np.random.RandomState(seed)
            self.params = {}
            for i in range(len(dims) - 1):
                self.params[f"W{i + 1}"] = scale * rs.randn(dims[i], dims[i + 1])
                self.params[f"b{i + 1}"] = np.zeros(dims[i + 1])

        def loss(self, X, y=None):
            h, c1 = dense_relu_forward(X, self.params["W1"], self.params["b1"])
            scores, c2 = dense_forward(h, self.params["W2"], self.params["b2"])
            if y is None:
                return scores
            loss, dscores = softmax_loss(scores, y)
            grads = {}
            dh, grads["W2"], grads["b2"] = dense_backward(dscores, c2)
            _, grads["W1"], grads["b1"] = dense_relu_backward(dh, c1)
            return loss, grads


    rs = np.random.RandomState(0)
    X = rs.randn(120, 3)
    y = np.argmax(X, axis=1)
    model = Classifier()
    for it in range(100):
        loss, grads = model.loss(X, y)
        for k in model.params:
            model.params[k] -= 0.5 * grads[k]
"""


def test_a_right_model_of_pairs_is_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "pairs.py", PAIRS, "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)


def test_the_pair_that_drops_the_relu_slope_is_the_headline(tmp_path: Path) -> None:
    path = planted(tmp_path, "pairs.py", PAIRS, "dx, dw, db = dense_backward(dz, dense_cache)", "dx, dw, db = dense_backward(dout, dense_cache)")
    report = check(path)
    found = errors(report)
    assert {f["layer"] for f in found} >= {"Classifier", "dense_relu"}, found  # both are wrong, and both said
    root = report["findings"][report["root_cause"]]
    assert root["layer"] == "dense_relu" and root["pattern"] == "missing-activation-derivative", root
    assert root["line"] == line_of(path, "dx, dw, db = dense_backward(dout, dense_cache)"), root


LAYER = """\
    import numpy as np


    class TanhDense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.5
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            self.out = np.tanh(x @ self.W + self.b)
            return self.out

        def backward(self, dout):
            dpre = dout * (1 - self.out ** 2)
            self.dW = self.x.T @ dpre
            self.db = dpre.sum(axis=0)
            return dpre @ self.W.T
"""


def test_a_layer_handing_on_the_upstream_gradient_instead_of_its_own_is_named_there(tmp_path: Path) -> None:
    clean = check(planted(tmp_path, "layer.py", LAYER, "import numpy as np", "import numpy as np"))
    assert errors(clean) == [], errors(clean)
    path = planted(tmp_path, "layer_bug.py", LAYER, "self.dW = self.x.T @ dpre", "self.dW = self.x.T @ dout")
    found = [f for f in errors(check(path)) if f["param"] == "W"]
    assert found and found[0]["pattern"] == "missing-activation-derivative", found
    assert found[0]["line"] == line_of(path, "self.dW = self.x.T @ dout") and "`dpre = dout * (1 - self.out ** 2)`" in found[0]["message"], found[0]
