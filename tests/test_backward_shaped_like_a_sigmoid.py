"""A layer's backward that divides the upstream gradient by `1 + np.exp(-self.x)` (a softplus's) is
not a sigmoid of that gradient, and `grad = layer.backward(grad)` over layers that each define a
`backward` of their own is no activation either: the gradient handed back is never reported as a
saturated sigmoid layer (a hidden sigmoid layer that is saturated still is:
tests/test_step_saturated_units.py)."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, planted

LAYERS = """\
    import numpy as np


    class Linear:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * np.sqrt(1.0 / n_in)
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, grad):
            self.dW = self.x.T @ grad
            self.db = grad.sum(axis=0)
            return grad @ self.W.T


    class SoftPlus:
        def forward(self, x):
            self.x = x
            return np.logaddexp(0, x)

        def backward(self, grad):
            return grad / (1.0 + np.exp(-self.x))


    np.random.seed(4)
    X = np.random.uniform(-3, 3, size=(200, 3))
    y = np.abs(X).sum(axis=1, keepdims=True)
    layers = [Linear(3, 16), SoftPlus(), Linear(16, 1), SoftPlus()]
    for epoch in range(200):
        out = X
        for layer in layers:
            out = layer.forward(out)
        loss = np.mean((out - y) ** 2)
        grad = 2 * (out - y) / len(y)
        for layer in reversed(layers):
            grad = layer.backward(grad)
        for layer in layers:
            if isinstance(layer, Linear):
                layer.W -= 0.01 * layer.dW
                layer.b -= 0.01 * layer.db
"""


def test_the_gradient_handed_back_is_not_a_saturated_sigmoid(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "softplus.py", LAYERS, "import numpy as np", "import numpy as np"), training=True)
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["name"] == "step-saturated-units"], report["findings"]
    assert any(m["layer"] == "SoftPlus" and m["verdict"] == "ok" for m in report["measurements"]), report["measurements"]
