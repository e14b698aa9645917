"""A backward loop that reads a variable only an earlier loop sets (issue 13's shapes: Nielsen's
lists, a recurrent network unrolled over time).

Python keeps a loop's variables after the loop ends, so `sp = sigmoid_prime(z)` in the backward
loop of Nielsen's `backprop` reads the output layer's `z`, the forward loop's last, in every pass,
where `zs[-l]` was meant; `(1 - h * h)` in a loop over time reads the last time step's `h`. The
numbers show a wrong gradient (or NumPy's shape error) further on; the read is the mistake, and the
finding names its line. The programs here are written for these tests.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.stale import left_by_a_loop
from tests.userfiles import check, errors, line_of, planted, write

LISTS = '''\
import random

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta):
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, len(training_data), mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            sp = sigmoid_prime(zs[-l])
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w


if __name__ == "__main__":
    np.random.seed(3)
    random.seed(3)
    points = np.random.randn(200, 4)
    labels = (points[:, 0] * points[:, 1] > 0).astype(float)
    data = [(p.reshape(4, 1), np.array([[t]])) for p, t in zip(points, labels)]
    Network([4, 6, 5, 1]).SGD(data, 30, 10, 3.0)
'''

OVER_TIME = '''\
import numpy as np

np.random.seed(0)
T, D, H = 6, 3, 8
X = np.random.randn(T, D, 1)
Y = np.cumsum(X[:, :1, :], axis=0) * 0.3

Wx = np.random.randn(H, D) * 0.3
Wh = np.random.randn(H, H) * 0.3
Wy = np.random.randn(1, H) * 0.3
bh = np.zeros((H, 1))
lr = 0.05

for epoch in range(300):
    hs = {-1: np.zeros((H, 1))}
    ys = {}
    loss = 0.0
    for t in range(T):
        h = np.tanh(Wx @ X[t] + Wh @ hs[t - 1] + bh)
        hs[t] = h
        ys[t] = Wy @ h
        loss += 0.5 * float(np.sum((ys[t] - Y[t]) ** 2))
    dWx, dWh, dWy, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(Wy), np.zeros_like(bh)
    dh_next = np.zeros((H, 1))
    for t in reversed(range(T)):
        dy = ys[t] - Y[t]
        dWy += dy @ hs[t].T
        dh = Wy.T @ dy + dh_next
        draw = (1 - hs[t] * hs[t]) * dh
        dbh += draw
        dWx += draw @ X[t].T
        dWh += draw @ hs[t - 1].T
        dh_next = Wh.T @ draw
    Wx -= lr * dWx
    Wh -= lr * dWh
    Wy -= lr * dWy
    bh -= lr * dbh
'''


def test_nielsens_backward_loop_reading_the_forward_loops_last_z_is_named_at_that_read(tmp_path):
    bug = planted(tmp_path, "network.py", LISTS, "sp = sigmoid_prime(zs[-l])", "sp = sigmoid_prime(z)")
    first = errors(check(bug))[0]
    assert first["line"] == line_of(bug, "sp = sigmoid_prime(z)")
    assert "reads `z`" in first["message"] and f"line {line_of(bug, 'for l in range')} never sets `z`" in first["message"]
    forward = line_of(bug, "z = np.dot(w, activation) + b") - 1
    assert f"the loop at line {forward} left in it" in first["message"] and "from `zs`" in first["message"]


def test_nielsens_network_with_each_layers_own_z_is_clean(tmp_path):
    report = check(write(tmp_path, "network.py", LISTS))
    assert not errors(report)


def test_a_loop_over_time_reading_the_last_steps_hidden_state_is_named_at_that_read(tmp_path):
    bug = planted(tmp_path, "rnn.py", OVER_TIME, "draw = (1 - hs[t] * hs[t]) * dh", "draw = (1 - h * h) * dh")
    first = errors(check(bug, training=True))[0]
    # only the last time step reads its own `h`: the numbers alone blame the gradient carried back from it
    assert first["line"] == line_of(bug, "draw = (1 - h * h)") and first["pattern"] == "left-by-a-loop"
    assert "reads `h`" in first["message"] and "from `hs`" in first["message"] and "`Wh`" in first["message"]


def test_the_same_loop_over_time_with_each_steps_own_state_is_clean(tmp_path):
    report = check(write(tmp_path, "rnn.py", OVER_TIME), training=True)
    assert not errors(report)


def _left(source: str, text: str) -> tuple | None:
    tree = ast.parse(source)
    line = next(i for i, row in enumerate(source.splitlines(), 1) if text in row)
    return left_by_a_loop(tree, line)


def test_a_name_also_set_before_the_earlier_loop_is_not_only_what_that_loop_left():
    source = "def f(xs):\n    a = 0\n    for x in xs:\n        a = x\n    out = []\n    for y in xs:\n        out.append(a + y)\n    return out\n"
    assert _left(source, "out.append(a + y)") is None


def test_the_earlier_loops_own_counter_is_not_a_value_left_by_it():
    source = "def f(xs):\n    for i in range(3):\n        xs[i] = 0\n    for y in xs:\n        y = y + i\n"
    assert _left(source, "y = y + i") is None


def test_a_name_the_later_loop_sets_itself_is_its_own():
    source = "def f(xs):\n    for x in xs:\n        h = x\n    for y in xs:\n        h = y * 2\n        z = h + 1\n"
    assert _left(source, "z = h + 1") is None
    assert _left(source.replace("        h = y * 2\n", ""), "z = h + 1")[:2] == ("h", 5)
