"""The networks the benchmarks measure, written the way the book's readers write them.

`two_layer_net()` loads the bundled correct sample (784-50-10 by default);
`MultiLayerNet` is the book's deep ReLU network (`weight_init_std` a number or "he"),
with a `bug=` switch that breaks one thing on purpose.
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "two_layer_net_fixed.py"


def definitions(path: Path = SAMPLE) -> dict:
    """A sample's classes, functions and imports, without its module-level training script."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tree.body = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.Import, ast.ImportFrom))]
    namespace: dict = {"__name__": "bench_sample"}
    exec(compile(tree, str(path), "exec"), namespace)
    return namespace


def two_layer_net(hidden: int = 50, batch: int = 100, seed: int = 0):
    """(net, x, t): the correct book TwoLayerNet 784-hidden-10 and a batch of MNIST-shaped data."""
    ns = definitions()
    np.random.seed(seed)
    net = ns["TwoLayerNet"](input_size=784, hidden_size=hidden, output_size=10)
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 784))
    t = np.eye(10)[rng.integers(0, 10, batch)]
    return net, x, t


def book_numerical_gradient(net, x, t, h: float = 1e-4) -> dict[str, np.ndarray]:
    """The book's whole-network check: every parameter element moved by ±h, the loss taken twice."""
    grads = {}
    for key, param in net.params.items():
        grad = np.zeros_like(param)
        it = np.nditer(param, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            i = it.multi_index
            original = param[i]
            param[i] = original + h
            plus = net.loss(x, t)
            param[i] = original - h
            minus = net.loss(x, t)
            param[i] = original
            grad[i] = (plus - minus) / (2 * h)
            it.iternext()
        grads[key] = grad
    return grads


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class ReluMaskForgotten(Relu):
    def backward(self, dout):
        return dout.copy()


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class MultiLayerNet:
    """Affine-Relu × len(hidden) then Affine-SoftmaxWithLoss, as in the book's chapter 6."""

    def __init__(self, input_size, hidden_size_list, output_size, weight_init_std=0.01, bug=None):
        sizes = [input_size, *hidden_size_list, output_size]
        self.params = {}
        self.layers = OrderedDict()
        self.count = len(sizes) - 1
        self.bug = bug
        for i in range(1, len(sizes)):
            std = np.sqrt(2.0 / sizes[i - 1]) if weight_init_std == "he" else weight_init_std
            self.params["W%d" % i] = std * np.random.randn(sizes[i - 1], sizes[i])
            self.params["b%d" % i] = np.zeros(sizes[i])
            self.layers["Affine%d" % i] = Affine(self.params["W%d" % i], self.params["b%d" % i])
            if i < len(sizes) - 1:
                relu = ReluMaskForgotten if bug == "relu%d-mask" % i else Relu
                self.layers["Relu%d" % i] = relu()
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.count + 1):
            grads["W%d" % i] = self.layers["Affine%d" % i].dW
            grads["b%d" % i] = self.layers["Affine%d" % i].db
        if self.bug and self.bug.startswith("double-b"):
            key = self.bug.removeprefix("double-")
            grads[key] = 2 * grads[key]
        return grads


def deep_net(weight_init_std=0.01, bug=None, batch: int = 100, seed: int = 0):
    """(net, x, t): a 784-100×5-10 ReLU network and an MNIST-shaped batch."""
    np.random.seed(seed)
    net = MultiLayerNet(784, [100] * 5, 10, weight_init_std, bug=bug)
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 784))
    t = np.eye(10)[rng.integers(0, 10, batch)]
    return net, x, t
