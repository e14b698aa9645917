"""A book-style network under names of its own: its weights in `self.parameters` (not `params`),
its gradient dict from `grad(X, T)` (not `gradient`), its scores from `pred(X)`.

The network is checked as the book's is: its loss against the gradient dict, key by key, whether
it is written inline or assembled from layers kept in an `OrderedDict`.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

INLINE = """\
    import numpy as np


    class Net:
        def __init__(self, n_in=784, n_hidden=50, n_out=10, scale=0.1):
            self.parameters = {
                "W1": scale * np.random.randn(n_in, n_hidden),
                "b1": np.zeros(n_hidden),
                "W2": scale * np.random.randn(n_hidden, n_out),
                "b2": np.zeros(n_out),
            }

        def pred(self, X):
            p = self.parameters
            self.X = X
            self.z1 = X @ p["W1"] + p["b1"]
            self.h1 = np.maximum(self.z1, 0)
            return self.h1 @ p["W2"] + p["b2"]

        def loss(self, X, T):
            scores = self.pred(X)
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            self.probs = e / e.sum(axis=1, keepdims=True)
            return -np.sum(T * np.log(self.probs + 1e-12)) / X.shape[0]

        def grad(self, X, T):
            self.loss(X, T)
            p = self.parameters
            dz2 = (self.probs - T) / X.shape[0]
            dh1 = dz2 @ p["W2"].T
            dz1 = dh1 * (self.z1 > 0)
            return {
                "W1": self.X.T @ dz1,
                "b1": dz1.sum(axis=0),
                "W2": self.h1.T @ dz2,
                "b2": dz2.sum(axis=0),
            }
"""

LAYERED = """\
    import numpy as np
    from collections import OrderedDict


    class Dense:
        def __init__(self, W, B):
            self.W, self.B = W, B

        def forward(self, X):
            self.X = X
            return X @ self.W + self.B

        def backward(self, error):
            self.dW = self.X.T @ error
            self.dB = error.sum(axis=0)
            return error @ self.W.T


    class Tanh:
        def forward(self, X):
            self.Y = np.tanh(X)
            return self.Y

        def backward(self, error):
            return error * (1 - self.Y ** 2)


    class SoftmaxCrossEntropy:
        def forward(self, Z, T):
            e = np.exp(Z - Z.max(axis=1, keepdims=True))
            self.Y, self.T = e / e.sum(axis=1, keepdims=True), T
            return -np.sum(T * np.log(self.Y + 1e-12)) / T.shape[0]

        def backward(self):
            return (self.Y - self.T) / self.T.shape[0]


    class Model:
        def __init__(self, input_size=28 * 28, hidden=64, output_size=10):
            self.weights = {
                "W1": 0.1 * np.random.randn(input_size, hidden),
                "B1": np.zeros(hidden),
                "W2": 0.1 * np.random.randn(hidden, output_size),
                "B2": np.zeros(output_size),
            }
            self.layers = OrderedDict()
            self.layers["Dense1"] = Dense(self.weights["W1"], self.weights["B1"])
            self.layers["Tanh"] = Tanh()
            self.layers["Dense2"] = Dense(self.weights["W2"], self.weights["B2"])
            self.last = SoftmaxCrossEntropy()

        def pred(self, X):
            for layer in self.layers.values():
                X = layer.forward(X)
            return X

        def loss(self, X, T):
            return self.last.forward(self.pred(X), T)

        def grad(self, X, T):
            self.loss(X, T)
            error = self.last.backward()
            for layer in reversed(list(self.layers.values())):
                error = layer.backward(error)
            return {
                "W1": self.layers["Dense1"].dW,
                "B1": self.layers["Dense1"].dB,
                "W2": self.layers["Dense2"].dW,
                "B2": self.layers["Dense2"].dB,
            }
"""


def _checked(report: dict, layer: str) -> set[str]:
    """The parameters of `layer` whose gradients the report compared."""
    return {m["param"] for m in report["measurements"] if m["layer"] == layer}


def test_an_inline_network_with_its_own_names_is_checked_clean(tmp_path):
    report = check(write(tmp_path, "net.py", INLINE))
    assert errors(report) == []
    assert _checked(report, "Net") == {"W1", "b1", "W2", "b2"}
    assert all(m["verdict"] == "ok" for m in report["measurements"])


def test_a_missing_relu_mask_in_grad_is_found_at_the_gradient_dict(tmp_path):
    path = planted(tmp_path, "net.py", INLINE, "dz1 = dh1 * (self.z1 > 0)", "dz1 = dh1")
    report = check(path)
    wrong = {(f["layer"], f["param"]): f for f in errors(report) if f["name"] == "gradient-mismatch"}
    assert set(wrong) == {("Net", "W1"), ("Net", "b1")}
    assert wrong["Net", "W1"]["line"] == line_of(path, "return {")
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Net" and m["verdict"] == "ok"} == {"W2", "b2"}


def test_a_layered_network_keeping_self_weights_is_checked_as_a_whole(tmp_path):
    report = check(write(tmp_path, "model.py", LAYERED))
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] in ("build-failed", "nothing-to-check")] == []
    assert _checked(report, "Model") == {"W1", "B1", "W2", "B2"}
