"""`opt.zero_grad()` called after the backward pass and before `opt.step()`: every update reads zeros.
Named at the reset's line, with the backward and the update it falls between; the same call at the
start of the pass is the usual order and is clean."""

from tests.userfiles import check, errors, line_of, write

PROGRAM = """
    import numpy as np


    class Tensor:
        def __init__(self, data):
            self.data = data
            self.grad = np.zeros_like(data)


    class Affine:
        def __init__(self, n_in, n_out, seed):
            r = np.random.default_rng(seed)
            self.W = Tensor(r.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)))
            self.b = Tensor(np.zeros(n_out))

        def __call__(self, x):
            self.x = x
            return x @ self.W.data + self.b.data

        def backward(self, d):
            self.W.grad += self.x.T @ d
            self.b.grad += d.sum(axis=0)
            return d @ self.W.data.T


    class SGD:
        def __init__(self, tensors, lr):
            self.tensors, self.lr = tensors, lr

        def zero_grad(self):
            for t in self.tensors:
                t.grad[...] = 0

        def step(self):
            for t in self.tensors:
                t.data -= self.lr * t.grad


    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]])
    first, second = Affine(3, 8, 1), Affine(8, 1, 2)
    opt = SGD([first.W, first.b, second.W, second.b], lr=0.05)
    for epoch in range(100):
        opt.zero_grad()
        h = np.maximum(first(X), 0)
        out = second(h)
        loss = np.mean((out - Y) ** 2)
        d = second.backward(2 * (out - Y) / len(X))
        first.backward(d * (h > 0))
        opt.step()
        if epoch % 20 == 0:
            print(epoch, loss)
"""


def test_the_usual_order_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "order.py", PROGRAM))) == []


def test_a_reset_between_backward_and_step_is_named_at_its_line(tmp_path):
    moved = PROGRAM.replace("        opt.zero_grad()\n", "").replace("        opt.step()\n", "        opt.zero_grad()\n        opt.step()\n")
    path = write(tmp_path, "order.py", moved)
    found = errors(check(path))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, "opt.zero_grad()"), "reset-before-update")], found
