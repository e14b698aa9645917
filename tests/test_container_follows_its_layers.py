"""A container of layers with a forward and backward of its own (`Sequential(Linear(...), Swish(), ...)`,
a block holding `self.fc1`, `self.act`, `self.fc2`) is checked as one layer beside the layers it holds.
When one of those layers is wrong, the container's gradient is wrong because of it: the report's first
line names the layer, at its line, and the container's finding is its symptom."""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

LIST = """\
    import numpy as np


    class Linear:
        def __init__(self, n_in, n_out, rng):
            self.W = rng.normal(0, np.sqrt(1.0 / n_in), (n_in, n_out))
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, g):
            self.dW = self.x.T @ g
            self.db = g.sum(axis=0)
            return g @ self.W.T


    class Swish:
        def forward(self, x):
            self.s = 1.0 / (1.0 + np.exp(-x))
            self.out = x * self.s
            return self.out

        def backward(self, g):
            return g * (self.s + self.out * (1.0 - self.s))


    class Sequential:
        def __init__(self, *layers):
            self.layers = list(layers)

        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def backward(self, g):
            for layer in reversed(self.layers):
                g = layer.backward(g)
            return g


    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 2))
    y = np.sin(X[:, :1]) + X[:, 1:] ** 2
    model = Sequential(Linear(2, 16, rng), Swish(), Linear(16, 1, rng))
    for step in range(200):
        out = model.forward(X)
        loss = np.mean((out - y) ** 2)
        model.backward(2 * (out - y) / len(X))
        for layer in model.layers:
            if isinstance(layer, Linear):
                layer.W -= 0.05 * layer.dW
                layer.b -= 0.05 * layer.db
"""

BLOCK = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.3
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T


    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, dout):
            return dout * (1 - self.y ** 2)


    class Block:
        def __init__(self, n):
            self.fc1 = Dense(n, n)
            self.act = Tanh()
            self.fc2 = Dense(n, n)

        def forward(self, x):
            return self.fc2.forward(self.act.forward(self.fc1.forward(x)))

        def backward(self, dout):
            return self.fc1.backward(self.act.backward(self.fc2.backward(dout)))
"""


def test_a_container_of_right_layers_is_clean(tmp_path):
    path = planted(tmp_path, "seq.py", LIST, "return g * (self.s + self.out * (1.0 - self.s))", "return g * (self.s + self.out * (1.0 - self.s))")
    assert errors(check(path)) == []


def test_a_wrong_layer_in_a_list_is_the_root_not_its_container(tmp_path):
    path = planted(tmp_path, "seq.py", LIST, "return g * (self.s + self.out * (1.0 - self.s))", "return g * (self.s + self.out * (1.0 - self.out))")
    report = check(path)
    root = errors(report)[0]
    assert root["layer"] == "Swish" and root["line"] == line_of(path, "return g * (self.s + self.out * (1.0 - self.out))")
    (container,) = [f for f in errors(report) if f["layer"] == "Sequential"]
    assert container["caused_by"] and "Swish" in container["caused_by"]


def test_a_block_of_right_layers_is_clean(tmp_path):
    path = planted(tmp_path, "block.py", BLOCK, "return dout * (1 - self.y ** 2)", "return dout * (1 - self.y ** 2)")
    assert errors(check(path)) == []


def test_a_wrong_layer_held_in_an_attribute_is_the_root_not_its_block(tmp_path):
    path = planted(tmp_path, "block.py", BLOCK, "return dout * (1 - self.y ** 2)", "return dout * (1 - self.y)")
    report = check(path)
    root = errors(report)[0]
    assert root["layer"] == "Tanh" and root["line"] == line_of(path, "return dout * (1 - self.y)")
    assert all(f["caused_by"] for f in errors(report) if f["layer"] == "Block")
