"""A layer whose forward computes its output with an attribute its backward never reads: Dropout's
`x * self.mask` under a backward that returns `dout`, a leaky ReLU's `self.alpha * x` under a backward
that gives negative inputs no slope. The attribute is what dx leaves out, and the report says so."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

DROPOUT = '''\
import numpy as np


class Dropout:
    def __init__(self, p=0.5):
        self.p = p
        self.mask = None

    def forward(self, x, train=True):
        if train:
            self.mask = (np.random.rand(*x.shape) > self.p) / (1 - self.p)
            return x * self.mask
        return x

    def backward(self, dout):
        return dout * self.mask


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * (self.x > 0)


def mse(pred, y):
    return np.mean((pred - y) ** 2), 2 * (pred - y) / pred.size


def main():
    np.random.seed(0)
    X = np.random.randn(256, 6)
    y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
    net = [Linear(6, 64), ReLU(), Dropout(0.2), Linear(64, 1)]
    lr = 0.05
    for epoch in range(300):
        out = X
        for layer in net:
            out = layer.forward(out)
        loss, grad = mse(out, y)
        for layer in reversed(net):
            grad = layer.backward(grad)
        for layer in net:
            if isinstance(layer, Linear):
                layer.W -= lr * layer.dW
                layer.b -= lr * layer.db
        if epoch % 50 == 0:
            print(epoch, loss)


if __name__ == "__main__":
    main()
'''

LEAKY = '''\
import numpy as np


class LeakyReLU:
    def __init__(self, alpha=0.1):
        self.alpha = alpha

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        return dout * np.where(self.x > 0, 1.0, self.alpha)


class Linear:
    def __init__(self, fan_in, fan_out, rng):
        self.W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
        self.b = np.zeros(fan_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def main():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((128, 3))
    y = np.abs(X[:, :1]) - X[:, 1:2]
    layers = [Linear(3, 32, rng), LeakyReLU(), Linear(32, 1, rng)]
    for epoch in range(200):
        h = X
        for l in layers:
            h = l.forward(h)
        loss = 0.5 * np.mean((h - y) ** 2)
        g = (h - y) / len(X)
        for l in reversed(layers):
            g = l.backward(g)
        for l in layers:
            if isinstance(l, Linear):
                l.W -= 0.1 * l.dW
                l.b -= 0.1 * l.db
        if epoch % 40 == 0:
            print(epoch, loss)


main()
'''

CASES = {
    "Dropout": (DROPOUT, "return dout * self.mask", "return dout", "self.mask", "return x * self.mask"),
    "LeakyReLU": (LEAKY, "return dout * np.where(self.x > 0, 1.0, self.alpha)", "return dout * np.where(self.x > 0, 1.0, 0.0)", "self.alpha", "return np.where(x > 0, x, self.alpha * x)"),
}


@pytest.mark.parametrize("layer", CASES)
def test_the_right_backward_gets_no_error(tmp_path, layer):
    program, right, _, _, _ = CASES[layer]
    assert errors(check(planted(tmp_path, "net.py", program, right, right))) == []


@pytest.mark.parametrize("layer", CASES)
def test_the_attribute_backward_leaves_out_is_named(tmp_path, layer):
    program, right, wrong, attribute, used = CASES[layer]
    path = planted(tmp_path, "net.py", program, right, wrong)
    (found,) = [f for f in errors(check(path)) if f["layer"] == layer]
    assert (found["param"], found["line"], found["pattern"]) == ("x", line_of(path, wrong), "forward-attribute-left-out")
    assert f"`{layer}.forward` computes its output with `{attribute}` (line {line_of(path, used)}), which `{layer}.backward` never reads" in found["message"]
