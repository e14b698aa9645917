"""A layer that takes its own SGD step inside `backward` (`self.W -= self.lr * dW`) and only then
computes the gradient it hands back (`grad_input = grad @ self.W.T`): the layers before it get a
gradient taken at weights the forward pass never used. Its gradients cannot be compared twice (the
second call computes with other weights), but the order is read from the source and named at the
statement that reads the moved weights; the same layer computing `grad_input` first gets no error.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

np.random.seed(2)


class Dense:
    def __init__(self, n_in, n_out, lr=0.05):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)
        self.lr = lr

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        dW = self.x.T @ grad
        db = grad.sum(axis=0)
        grad_input = grad @ self.W.T
        self.W -= self.lr * dW
        self.b -= self.lr * db
        return grad_input


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out ** 2)


layers = [Dense(2, 16), Tanh(), Dense(16, 1)]
X = np.random.uniform(-2, 2, size=(256, 2))
y = np.sin(X[:, :1]) * X[:, 1:]
for epoch in range(100):
    out = X
    for layer in layers:
        out = layer.forward(out)
    grad = 2 * (out - y) / len(X)
    for layer in reversed(layers):
        grad = layer.backward(grad)
'''

FIRST = "        grad_input = grad @ self.W.T\n"


def test_the_read_after_the_update_is_named(tmp_path):
    program = PROGRAM.replace(FIRST, "").replace("        return grad_input\n", FIRST + "        return grad_input\n")
    path = planted(tmp_path, "layers.py", program, FIRST, FIRST)
    found = [f for f in errors(check(path)) if f["pattern"] == "stale-weights"]
    assert found and found[0]["line"] == line_of(path, "grad_input = grad @ self.W.T")
    assert errors(check(path))[0]["pattern"] == "stale-weights"


def test_the_gradient_taken_before_the_update_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "layers.py", PROGRAM, FIRST, FIRST))) == []
