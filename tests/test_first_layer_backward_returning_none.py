"""A first layer whose backward ends in `return None` on purpose, and whose program never reads what it
returns (`first.backward(d, lr)` as a statement wherever it is called): no finding. The warning "right
for a network's first layer only" is for a layer the program may chain; here the program says which
it is. A layer whose returned None is read as the next gradient keeps the warning. Two styles: layers
stepped one sample at a time in a script, and a network class naming its layers. Real CLI."""

from __future__ import annotations

from tests.userfiles import check, errors, write

PER_SAMPLE = '''\
import numpy as np


class Gain:
    def __init__(self):
        self.g = np.ones(4)

    def forward(self, x):
        self.x = x
        return x * self.g

    def backward(self, d, lr):
        self.g -= lr * d * self.x
        return None


class Readout:
    def __init__(self):
        self.u = np.random.RandomState(0).randn(4) * 0.1

    def forward(self, h):
        self.h = h
        return h @ self.u

    def backward(self, d, lr):
        dh = d * self.u
        self.u -= lr * d * self.h
        return dh


rs = np.random.RandomState(1)
X = rs.randn(200, 4)
Y = X @ np.array([0.5, -1.0, 1.5, 0.0])
first, last = Gain(), Readout()
for x, y in zip(X, Y):
    p = last.forward(first.forward(x))
    loss = 0.5 * (p - y) ** 2
    first.backward(last.backward(p - y, 0.05), 0.05)
'''

NETWORK = '''\
import numpy as np


class Input:
    def __init__(self, n_in, n_out, rs):
        self.W = rs.randn(n_in, n_out) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return np.tanh(x @ self.W + self.b)

    def backward(self, dout):
        self.out = np.tanh(self.x @ self.W + self.b)
        dz = dout * (1 - self.out ** 2)
        self.dW = self.x.T @ dz
        self.db = dz.sum(axis=0)
        return None


class Head:
    def __init__(self, n_in, rs):
        self.W = rs.randn(n_in, 1) * 0.3
        self.b = np.zeros(1)

    def forward(self, h):
        self.h = h
        return h @ self.W + self.b

    def backward(self, dout):
        self.dW = self.h.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Net:
    def __init__(self):
        rs = np.random.RandomState(2)
        self.inp = Input(3, 8, rs)
        self.head = Head(8, rs)

    def step(self, x, y, lr):
        out = self.head.forward(self.inp.forward(x))
        loss = 0.5 * np.mean((out - y) ** 2)
        dh = self.head.backward((out - y) / len(x))
        self.inp.backward(dh)
        for layer in (self.inp, self.head):
            layer.W -= lr * layer.dW
            layer.b -= lr * layer.db
        return loss


rs = np.random.RandomState(3)
X = rs.randn(64, 3)
Y = np.sin(X[:, :1])
net = Net()
for it in range(200):
    loss = net.step(X, Y, 0.2)
'''


def _bad_returns(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD107"]


def test_a_first_layer_stepped_per_sample_returning_none_gets_no_finding(tmp_path):
    report = check(write(tmp_path, "per_sample.py", PER_SAMPLE), training=True)
    assert _bad_returns(report) == [] and errors(report) == []
    assert {m["layer"] for m in report["measurements"]} >= {"Gain", "Readout"}


def test_a_network_whose_first_layer_returns_none_gets_no_finding(tmp_path):
    report = check(write(tmp_path, "named_layers.py", NETWORK), training=True)
    assert _bad_returns(report) == [] and errors(report) == []


def test_a_layer_whose_none_is_read_as_the_next_gradient_keeps_the_warning(tmp_path):
    chained = NETWORK.replace("        self.inp.backward(dh)\n", "        dx = self.inp.backward(dh)\n")
    report = check(write(tmp_path, "named_layers.py", chained), training=True)
    (warning,) = _bad_returns(report)
    assert warning["severity"] == "warning" and "first layer only" in warning["message"]
