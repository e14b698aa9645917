"""A forward that writes into its input (`np.tanh(x, out=x)`, `x *= scale`) inside a network of
the program's (issue 13's class layers in a list). Where the layer before it keeps nothing of its
output and the network's whole gradient is right, the write does no harm there: a warning that
names the trap. Where the layer keeps the very array it overwrites for its own backward
(`self.x = x`, then `np.tanh(x, out=x)`), the finding is an error at the line that keeps it. Where
the layer before keeps its output (a sigmoid's `self.out`), the write corrupts that layer's
gradient: an error. The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

MLP = '''\
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.dW = self.x.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T


class Tanh:
    def forward(self, x):
        self.x = x.copy()
        np.tanh(x, out=x)
        return x

    def backward(self, grad):
        return grad * (1.0 - np.tanh(self.x) ** 2)


class MLP:
    def __init__(self, sizes, rng):
        self.layers = []
        for i in range(len(sizes) - 1):
            self.layers.append(Linear(sizes[i], sizes[i + 1], rng))
            if i < len(sizes) - 2:
                self.layers.append(Tanh())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


if __name__ == "__main__":
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (128, 2))
    y = np.sin(3 * X[:, :1]) * X[:, 1:]
    net = MLP([2, 16, 16, 1], rng)
    for epoch in range(100):
        pred = net.forward(X)
        net.backward(2 * (pred - y) / len(X))
        for layer in net.layers:
            if isinstance(layer, Linear):
                layer.W -= 0.1 * layer.dW
                layer.b -= 0.1 * layer.db
'''


def _mutated(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD201"]


def test_an_in_place_tanh_after_a_linear_layer_is_a_warning_where_the_network_is_right(tmp_path):
    report = check(write(tmp_path, "mlp.py", MLP))
    assert not errors(report)
    (finding,) = _mutated(report)
    assert finding["severity"] == "warning" and "in `MLP` nothing reads that array afterwards" in finding["message"]


def test_an_in_place_tanh_that_keeps_the_array_it_overwrites_is_an_error_where_it_keeps_it(tmp_path):
    bug = planted(tmp_path, "mlp.py", MLP, "        self.x = x.copy()\n        np.tanh", "        self.x = x\n        np.tanh")
    (finding,) = _mutated(check(bug))
    assert finding["severity"] == "error" and finding["line"] == line_of(bug, "np.tanh(x, out=x)") - 1
    assert "keeps its input as `self.x`" in finding["message"] and "`self.x = x.copy()`" in finding["message"]


def test_an_in_place_write_after_a_layer_that_keeps_its_output_stays_an_error(tmp_path):
    sigmoid = MLP.replace(
        "class Tanh:\n    def forward(self, x):\n        self.x = x.copy()\n        np.tanh(x, out=x)\n        return x\n\n    def backward(self, grad):\n        return grad * (1.0 - np.tanh(self.x) ** 2)\n",
        "class Sigmoid:\n    def forward(self, x):\n        self.out = 1 / (1 + np.exp(-x))\n        return self.out\n\n    def backward(self, grad):\n        return grad * self.out * (1 - self.out)\n\n\n"
        "class Double:\n    def forward(self, x):\n        x *= 2.0\n        return x\n\n    def backward(self, grad):\n        return 2.0 * grad\n",
    ).replace("self.layers.append(Tanh())", "self.layers += [Sigmoid(), Double()]")
    assert "class Double" in sigmoid and "Tanh()" not in sigmoid
    report = check(write(tmp_path, "mlp.py", sigmoid))
    assert [f["severity"] for f in _mutated(report)] == ["error"]
