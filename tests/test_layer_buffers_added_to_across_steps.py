"""Layer classes that keep their weight gradients as attributes (`self.dLdW`, `self.grad_W`), written by their
`backward` and read by an optimizer object that steps the model's layers through an index or a loop variable
(`self.l[i].W = self.l[i].W - lr * self.l[i].dLdW`, `layer.W -= lr * layer.grad_W`). A backward that adds to
the attribute (`+=`) where it should assign it is right on the first step and wrong on every later one: the
root cause is that line, named as a gradient added to across steps, not the optimizer's update."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

INDEXED = """\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_out, n_in) * 0.4
        self.b = np.zeros((1, n_out))
        self.dLdW = np.zeros_like(self.W)
        self.dLdb = np.zeros_like(self.b)

    def forward(self, A):
        self.A = A
        return A @ self.W.T + self.b

    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.sum(axis=0, keepdims=True)
        return dLdZ @ self.W


class Tanh:
    def forward(self, Z):
        self.out = np.tanh(Z)
        return self.out

    def backward(self, dA):
        return dA * (1 - self.out ** 2)


class SoftmaxCE:
    def forward(self, Z, Y):
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        self.P = e / e.sum(axis=1, keepdims=True)
        self.Y = Y
        return float(-np.sum(Y * np.log(self.P)) / len(Y))

    def backward(self):
        return (self.P - self.Y) / len(self.Y)


class Net:
    def __init__(self):
        self.layers = [Dense(2, 10), Tanh(), Dense(10, 3)]

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, d):
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return d


class Optimizer:
    def __init__(self, net, lr):
        self.l = net.layers
        self.lr = lr

    def step(self):
        for i in range(len(self.l)):
            if isinstance(self.l[i], Dense):
                self.l[i].W = self.l[i].W - self.lr * self.l[i].dLdW
                self.l[i].b = self.l[i].b - self.lr * self.l[i].dLdb


np.random.seed(7)
X = np.random.randn(60, 2)
labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
Y = np.eye(3)[labels]
net = Net()
criterion = SoftmaxCE()
opt = Optimizer(net, 0.3)
for epoch in range(120):
    loss = criterion.forward(net.forward(X), Y)
    net.backward(criterion.backward())
    opt.step()
    if epoch % 20 == 0:
        print(epoch, loss)
"""

LOOPED = """\
import numpy as np


class Linear:
    def __init__(self, fan_in, fan_out, rng):
        self.W = rng.normal(0.0, 0.5, (fan_in, fan_out))
        self.grad_W = np.zeros_like(self.W)

    def __call__(self, x):
        self.x = x
        return x @ self.W

    def backward(self, grad):
        self.grad_W = self.x.T @ grad
        return grad @ self.W.T


class Sigmoid:
    def __call__(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return self.s

    def backward(self, grad):
        return grad * self.s * (1 - self.s)


class Model:
    def __init__(self, rng):
        self.stack = [Linear(3, 8, rng), Sigmoid(), Linear(8, 1, rng)]

    def __call__(self, x):
        for m in self.stack:
            x = m(x)
        return x

    def backward(self, grad):
        for m in reversed(self.stack):
            grad = m.backward(grad)


class GradientDescent:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.lr = lr

    def step(self):
        for layer in self.model.stack:
            if hasattr(layer, "W"):
                layer.W -= self.lr * layer.grad_W


rng = np.random.default_rng(3)
X = rng.normal(size=(40, 3))
y = (X[:, :1] * 0.7 - X[:, 1:2] * 0.4) ** 2
model = Model(rng)
sgd = GradientDescent(model, lr=0.05)
for it in range(150):
    pred = model(X)
    loss = float(np.mean((pred - y) ** 2))
    model.backward(2 * (pred - y) / len(X))
    sgd.step()
    if it % 30 == 0:
        print(it, loss)
"""

STYLES = {
    "indexed-optimizer": (INDEXED, ("self.dLdW = dLdZ.T @ self.A", "self.dLdW += dLdZ.T @ self.A")),
    "looped-optimizer": (LOOPED, ("self.grad_W = self.x.T @ grad", "self.grad_W += self.x.T @ grad")),
}


@pytest.mark.parametrize("style", list(STYLES))
def test_layers_that_assign_their_gradients_are_clean(tmp_path, style):
    program, _ = STYLES[style]
    assert errors(check(write(tmp_path, "mlp.py", program), training=True)) == []


@pytest.mark.parametrize("style", list(STYLES))
def test_a_gradient_added_to_in_backward_is_the_root_at_its_line(tmp_path, style):
    program, (correct, wrong) = STYLES[style]
    path = planted(tmp_path, "mlp.py", program, correct, wrong)
    found = errors(check(path, training=True))
    assert found, "nothing found"
    root = found[0]
    assert (root["line"], root["pattern"]) == (line_of(path, wrong), "accumulated-across-steps"), [(f["code"], f["line"], f["message"][:160]) for f in found]
