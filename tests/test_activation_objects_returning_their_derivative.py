"""Activation objects whose `backward()` takes no upstream gradient and returns the local derivative
f'(x) of what `forward(x)` kept (`self.out * (1 - self.out)`, `(self.x > 0).astype(float)`): the
caller multiplies it by the upstream gradient itself. Checked as that derivative (the adapter
multiplies it in), never as an input gradient for a random upstream nor for batch coupling; a
wrong derivative is still an error at its line, with advice and a fix that leave the upstream
gradient out. Programs written for these tests, in two styles: a network class holding a
Sigmoid and a Tanh object, and a script whose loop multiplies by a ReLU's and a leaky ReLU's slope."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = """\
import numpy as np


class Sigmoid:
    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self):
        return self.out * (1.0 - self.out)


class Tanh:
    def forward(self, x):
        self.x = x
        self.out = np.tanh(x)
        return self.out

    def backward(self):
        return 1.0 - self.out ** 2


class TinyNet:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(0, 0.5, (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0, 0.5, (n_hidden, 1))
        self.b2 = np.zeros(1)
        self.act1 = Tanh()
        self.act2 = Sigmoid()

    def forward(self, x):
        self.x = x
        self.h = self.act1.forward(x @ self.W1 + self.b1)
        self.p = self.act2.forward(self.h @ self.W2 + self.b2)
        return self.p

    def backward(self, y):
        n = len(y)
        dp = (self.p - y) / (self.p * (1 - self.p)) / n
        dz2 = dp * self.act2.backward()
        self.dW2 = self.h.T @ dz2
        self.db2 = dz2.sum(axis=0)
        dz1 = (dz2 @ self.W2.T) * self.act1.backward()
        self.dW1 = self.x.T @ dz1
        self.db1 = dz1.sum(axis=0)

    def step(self, lr):
        self.W1 -= lr * self.dW1
        self.b1 -= lr * self.db1
        self.W2 -= lr * self.dW2
        self.b2 -= lr * self.db2


data_rng = np.random.default_rng(1)
X = data_rng.normal(size=(64, 2))
Y = ((X[:, :1] * X[:, 1:]) > 0).astype(float)
net = TinyNet(2, 8)
for epoch in range(300):
    p = net.forward(X)
    loss = -np.mean(Y * np.log(p + 1e-9) + (1 - Y) * np.log(1 - p + 1e-9))
    net.backward(Y)
    net.step(0.5)
    if epoch % 100 == 0:
        print(epoch, loss)
"""

SCRIPT = """\
import numpy as np


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self):
        return (self.x > 0).astype(float)


class LeakyReLU:
    def __init__(self, slope=0.01):
        self.slope = slope

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.slope * x)

    def backward(self):
        return np.where(self.x > 0, 1.0, self.slope)


np.random.seed(0)
X = np.random.randn(100, 3)
T = np.sin(X @ np.array([[1.0], [-2.0], [0.5]]))
W1 = np.random.randn(3, 16) * 0.5
W2 = np.random.randn(16, 16) * 0.3
W3 = np.random.randn(16, 1) * 0.3
relu = ReLU()
leaky = LeakyReLU(0.1)
lr = 0.05
for it in range(200):
    a1 = relu.forward(X @ W1)
    a2 = leaky.forward(a1 @ W2)
    out = a2 @ W3
    loss = np.mean((out - T) ** 2)
    dout = 2 * (out - T) / len(X)
    dW3 = a2.T @ dout
    dz2 = (dout @ W3.T) * leaky.backward()
    dW2 = a1.T @ dz2
    dz1 = (dz2 @ W2.T) * relu.backward()
    dW1 = X.T @ dz1
    W1 -= lr * dW1
    W2 -= lr * dW2
    W3 -= lr * dW3
    if it % 50 == 0:
        print(it, loss)
"""


def _verdicts(report: dict) -> dict[tuple[str, str], str]:
    return {(m["layer"], m["param"]): m["verdict"] for m in report["measurements"]}


def _coupling(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "batch-coupling"]


def test_sigmoid_and_tanh_objects_returning_their_derivative_are_clean(tmp_path):
    for training in (False, True):
        report = check(write(tmp_path, "net.py", NETWORK), training=training)
        assert errors(report) == [] and _coupling(report) == []
        verdicts = _verdicts(report)
        assert verdicts[("Sigmoid", "x")] == "ok" and verdicts[("Tanh", "x")] == "ok"


def test_relu_objects_returning_their_slope_are_clean(tmp_path):
    report = check(write(tmp_path, "script.py", SCRIPT), training=True)
    assert errors(report) == [] and _coupling(report) == []
    verdicts = _verdicts(report)
    assert verdicts[("ReLU", "x")] == "ok" and verdicts[("LeakyReLU", "x")] == "ok"


def test_a_wrong_sigmoid_derivative_is_an_error_at_its_line_without_an_upstream_gradient(tmp_path):
    path = planted(tmp_path, "net.py", NETWORK, "return self.out * (1.0 - self.out)", "return self.out * (1.0 + self.out)")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("gradient-mismatch", "Sigmoid", line_of(path, "self.out * (1.0 + self.out)"))
    assert "the derivative of sigmoid is `s * (1 - s)`" in found["message"]  # the local derivative alone
    assert found["fix"] == "return (1.0 - self.out) * self.out"
    assert _coupling(check(path)) == []


def test_tanh_derivative_of_the_input_instead_of_the_output_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "net.py", NETWORK, "return 1.0 - self.out ** 2", "return 1.0 - self.x ** 2")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("gradient-mismatch", "Tanh", line_of(path, "1.0 - self.x ** 2"))
    assert "dout" not in (found["fix"] or "") and "dA" not in found["message"]


def test_a_leaky_slope_left_at_zero_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "np.where(self.x > 0, 1.0, self.slope)", "np.where(self.x > 0, 1.0, 0.0)")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("gradient-mismatch", "LeakyReLU", line_of(path, "1.0, 0.0)"))


def test_a_relu_mask_turned_around_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "return (self.x > 0).astype(float)", "return (self.x < 0).astype(float)")
    (found,) = errors(check(path))
    assert (found["name"], found["layer"], found["line"]) == ("gradient-mismatch", "ReLU", line_of(path, "(self.x < 0)"))
