"""A softmax layer whose backward multiplies by `y * (1 - y)` only, the diagonal of its Jacobian (a
sigmoid's derivative): named, with the row-wise product that is the softmax's, not "re-derive it"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


class Softmax:
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return self.y

    def backward(self, dout):
        # Jacobian-vector product of softmax, row by row
        return self.y * (dout - np.sum(dout * self.y, axis=1, keepdims=True))


class CrossEntropy:
    def forward(self, p, t):
        self.p, self.t = p, t
        return -np.mean(np.log(p[np.arange(len(t)), t] + 1e-12))

    def backward(self):
        d = np.zeros_like(self.p)
        d[np.arange(len(self.t)), self.t] = -1.0 / (self.p[np.arange(len(self.t)), self.t] + 1e-12)
        return d / len(self.t)


class Linear:
    def __init__(self, i, o):
        self.W = np.random.randn(i, o) * 0.1
        self.b = np.zeros(o)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, d):
        self.dW, self.db = self.x.T @ d, d.sum(0)
        return d @ self.W.T


if __name__ == "__main__":
    np.random.seed(0)
    X = np.random.randn(90, 4)
    t = np.argmax(X[:, :3], axis=1)
    lin, sm, ce = Linear(4, 3), Softmax(), CrossEntropy()
    for i in range(200):
        loss = ce.forward(sm.forward(lin.forward(X)), t)
        lin.backward(sm.backward(ce.backward()))
        lin.W -= 0.5 * lin.dW
        lin.b -= 0.5 * lin.db
        if i % 40 == 0:
            print(i, loss)
'''

RIGHT = "return self.y * (dout - np.sum(dout * self.y, axis=1, keepdims=True))"
DIAGONAL = "return dout * self.y * (1 - self.y)"


def test_the_full_jacobian_product_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "net.py", PROGRAM, RIGHT, RIGHT))) == []


def test_the_diagonal_alone_is_named_with_the_product_to_write(tmp_path):
    path = planted(tmp_path, "net.py", PROGRAM, RIGHT, DIAGONAL)
    found = [f for f in errors(check(path)) if f["param"] == "x" and f["layer"] == "Softmax"]
    (f,) = found
    assert (f["line"], f["pattern"]) == (line_of(path, DIAGONAL), "softmax-jacobian-diagonal")
    assert f["message"].endswith("dx = self.y * (dout - np.sum(dout * self.y, axis=1, keepdims=True))")
