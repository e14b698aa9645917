"""A loss layer whose backward recomputes the forward's difference with its operands reversed
(`diff = self.t - self.y` beside forward's `diff = y - t`) flips the sign of the gradient it returns: the
finding names the reversed difference (`static.reversed_difference`, `checks.gradient_mismatch._reversed_differences`),
not the gradient line that only uses it. Two class styles (book layers with a list of layers; a two-layer
net with a criterion object and a gradient computed through an intermediate), each beside its correct twin."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

BOOK = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 0.5, (n_in, n_out))
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
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class SquaredErrorLoss:
    def forward(self, y, t):
        self.y, self.t = y, t
        diff = y - t
        return 0.5 * np.sum(diff ** 2) / len(y)

    def backward(self, dout=1.0):
        diff = self.y - self.t
        dy = dout * diff / len(self.y)
        return dy


rng = np.random.default_rng(11)
x = rng.uniform(-2, 2, (64, 1))
t = np.cos(x)
layers = [Dense(1, 16, rng), Tanh(), Dense(16, 1, rng)]
loss_layer = SquaredErrorLoss()
for epoch in range(300):
    h = x
    for layer in layers:
        h = layer.forward(h)
    loss = loss_layer.forward(h, t)
    g = loss_layer.backward()
    for layer in reversed(layers):
        g = layer.backward(g)
    for layer in (layers[0], layers[2]):
        layer.W -= 0.1 * layer.dW
        layer.b -= 0.1 * layer.db
    if epoch % 100 == 0:
        print(epoch, loss)
'''

CRITERION = '''\
import numpy as np


class Linear:
    def __init__(self, fan_in, fan_out):
        self.W = np.random.randn(fan_in, fan_out) * np.sqrt(1.0 / fan_in)
        self.b = np.zeros((1, fan_out))

    def forward(self, inp):
        self.inp = inp
        return np.dot(inp, self.W) + self.b

    def backward(self, grad):
        self.grad_W = np.dot(self.inp.T, grad)
        self.grad_b = np.sum(grad, axis=0, keepdims=True)
        return np.dot(grad, self.W.T)


class MeanSquare:
    def forward(self, prediction, target):
        self.prediction = prediction
        self.target = target
        error = prediction - target
        return np.mean(error * error)

    def backward(self, upstream=1.0):
        error = self.prediction - self.target
        scaled = 2.0 * error
        return upstream * scaled / error.size


np.random.seed(5)
inputs = np.random.rand(80, 2)
targets = (inputs[:, :1] - 2.0 * inputs[:, 1:]) + 0.1
first, second = Linear(2, 5), Linear(5, 1)
criterion = MeanSquare()
for step in range(400):
    hidden = first.forward(inputs)
    output = second.forward(hidden)
    cost = criterion.forward(output, targets)
    g = criterion.backward()
    g = second.backward(g)
    first.backward(g)
    for layer in (first, second):
        layer.W -= 0.05 * layer.grad_W
        layer.b -= 0.05 * layer.grad_b
    if step % 100 == 0:
        print(step, cost)
'''


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


def _warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "warning"]


def test_book_layers_with_the_difference_the_right_way_round_are_clean(tmp_path):
    report = check(write(tmp_path, "curve.py", BOOK))
    assert errors(report) == [] and _warnings(report) == [], report["findings"]


def test_book_layers_reversed_difference_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "curve.py", BOOK, "        diff = self.y - self.t", "        diff = self.t - self.y")
    root = _root(check(path))
    assert root["severity"] == "error" and root["line"] == line_of(path, "diff = self.t - self.y"), root
    assert "reversed" in root["message"] and "diff = self.y - self.t" in root["message"], root["message"]


def test_criterion_with_the_difference_the_right_way_round_is_clean(tmp_path):
    report = check(write(tmp_path, "fit.py", CRITERION))
    assert errors(report) == [] and _warnings(report) == [], report["findings"]


def test_criterion_reversed_difference_read_through_an_intermediate_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "fit.py", CRITERION, "        error = self.prediction - self.target", "        error = self.target - self.prediction")
    root = _root(check(path))
    assert root["severity"] == "error" and root["line"] == line_of(path, "error = self.target - self.prediction"), root
    assert "error = self.prediction - self.target" in root["message"], root["message"]
