"""One activation object held under two attributes of a model (`self.act2 = self.act1`) and listed
twice in its layer list: the second use's forward overwrites what the first kept, so the backward
through the first use reads the second's mask. It is named at the line that binds the second
attribute to the first's object, with a new object as the fix, whether the layer class is the
file's own or imported from a package beside it. Each use built anew is clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, g):
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


class Rectifier:
    def forward(self, x):
        self.on = x > 0
        return x * self.on

    def backward(self, g):
        return g * self.on
'''

MODEL = '''\
import numpy as np

from blocks import Dense, Rectifier


class Stack:
    def __init__(self, rng):
        self.fc1 = Dense(3, 12, rng)
        self.act1 = Rectifier()
        self.fc2 = Dense(12, 12, rng)
        self.act2 = Rectifier()
        self.fc3 = Dense(12, 2, rng)
        self.layers = [self.fc1, self.act1, self.fc2, self.act2, self.fc3]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, g):
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g


rng = np.random.default_rng(2)
X = rng.normal(size=(60, 3))
Y = np.stack([X[:, 0] * X[:, 1], X[:, 2] ** 2], axis=1)
model = Stack(rng)
for step in range(300):
    out = model.forward(X)
    loss = np.mean((out - Y) ** 2)
    model.backward(2 * (out - Y) / out.size)
    for layer in (model.fc1, model.fc2, model.fc3):
        layer.W -= 0.05 * layer.dW
        layer.b -= 0.05 * layer.db
    if step % 100 == 0:
        print(step, loss)
'''

SINGLE_FILE = '''\
import numpy as np


class Lin:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, d):
        self.dW = self.x.T @ d
        return d @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, d):
        return d * (1 - self.y ** 2)


class Net:
    def __init__(self):
        np.random.seed(4)
        self.l1 = Lin(np.random.randn(2, 8) * 0.7)
        self.t1 = Tanh()
        self.l2 = Lin(np.random.randn(8, 8) * 0.4)
        self.t2 = Tanh()
        self.l3 = Lin(np.random.randn(8, 1) * 0.4)
        self.seq = [self.l1, self.t1, self.l2, self.t2, self.l3]

    def predict(self, x):
        for m in self.seq:
            x = m.forward(x)
        return x

    def backprop(self, d):
        for m in self.seq[::-1]:
            d = m.backward(d)


net = Net()
xs = np.random.uniform(-2, 2, size=(50, 2))
ts = np.sin(xs[:, :1]) * np.cos(xs[:, 1:])
for it in range(400):
    p = net.predict(xs)
    loss = 0.5 * np.mean((p - ts) ** 2)
    net.backprop((p - ts) / len(xs))
    for m in (net.l1, net.l2, net.l3):
        m.W -= 0.1 * m.dW
'''


def test_one_imported_activation_held_under_two_attributes_is_named_where_the_second_is_bound(tmp_path):
    write(tmp_path, "blocks.py", LAYERS)
    path = planted(tmp_path, "train.py", MODEL, "self.act2 = Rectifier()", "self.act2 = self.act1")
    report = check(path)
    shared = [f for f in errors(report) if f["name"] == "shared-layer"]
    assert [f["line"] for f in shared] == [line_of(path, "self.act2 = self.act1")]
    assert shared[0]["fix"] == "self.act2 = Rectifier()"
    assert report["findings"][report["root_cause"]]["name"] == "shared-layer"


def test_one_activation_of_the_file_held_under_two_attributes_is_named_where_the_second_is_bound(tmp_path):
    path = planted(tmp_path, "net.py", SINGLE_FILE, "self.t2 = Tanh()", "self.t2 = self.t1")
    shared = [f for f in errors(check(path)) if f["name"] == "shared-layer"]
    assert [f["line"] for f in shared] == [line_of(path, "self.t2 = self.t1")]


def test_each_use_built_anew_is_clean(tmp_path):
    write(tmp_path, "blocks.py", LAYERS)
    for path in (write(tmp_path, "train.py", MODEL), write(tmp_path, "net.py", SINGLE_FILE)):
        report = check(path)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], path
