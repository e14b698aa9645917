"""An optimizer made once with the layers' gradient arrays (`Momentum(list(net.params()),
list(net.grads()))`) while `backward` replaces them (`self.dW = x.T @ dout`) instead of writing into
them (`self.dW[...] = ...`): every update reads the zeros `__init__` made. The replay finds the
updates' gradients all zero, and the finding names the line that replaces the arrays. The layers
take a generator to draw their weights from (`Dense(n_in, n_out, rng)`), which the builder gives."""

from tests.userfiles import check, errors, line_of, planted, write

MODULES = """
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out, rng):
            self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
            self.b = np.zeros(n_out)
            self.dW = np.zeros_like(self.W)
            self.db = np.zeros_like(self.b)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW[...] = self.x.T @ dout
            self.db[...] = dout.sum(axis=0)
            return dout @ self.W.T

        def params(self):
            yield from (self.W, self.b)

        def grads(self):
            yield from (self.dW, self.db)


    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, dout):
            return dout * (1 - self.y ** 2)

        def params(self):
            yield from ()

        def grads(self):
            yield from ()


    class Momentum:
        def __init__(self, params, grads, lr=0.05, mu=0.9):
            self.params, self.grads, self.lr, self.mu = params, grads, lr, mu
            self.v = [np.zeros_like(p) for p in params]

        def step(self):
            for p, g, v in zip(self.params, self.grads, self.v):
                v *= self.mu
                v -= self.lr * g
                p += v


    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    Y = np.sin(X[:, :1]) + X[:, 1:2] ** 2
    layers = [Dense(4, 16, rng), Tanh(), Dense(16, 1, rng)]
    opt = Momentum([p for l in layers for p in l.params()], [g for l in layers for g in l.grads()])
    for epoch in range(200):
        out = X
        for layer in layers:
            out = layer.forward(out)
        loss = np.mean((out - Y) ** 2)
        d = 2 * (out - Y) / len(X)
        for layer in reversed(layers):
            d = layer.backward(d)
        opt.step()
        if epoch % 50 == 0:
            print(epoch, loss)
"""


def test_gradients_written_in_place_are_clean(tmp_path):
    report = check(write(tmp_path, "modules.py", MODULES))
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if f["code"] == "BPD008"], report["findings"]


def test_gradients_replaced_are_named_at_the_line_that_replaces_them(tmp_path):
    path = planted(tmp_path, "modules.py", MODULES, "self.dW[...] = self.x.T @ dout", "self.dW = self.x.T @ dout")
    found = errors(check(path))
    assert [(f["code"], f["line"]) for f in found] == [("BPD108", line_of(path, "self.dW = self.x.T @ dout"))], found
    assert "self.dW[...] = ..." in found[0]["message"], found[0]["message"]
