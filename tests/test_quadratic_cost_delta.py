"""A network2-style quadratic cost class whose `delta(z, a, y)` returns the output error `a - y` alone:
that is the gradient with respect to the sigmoid's output, where the backward pass starts from the
gradient with respect to the output layer's weighted input, so the sigmoid's derivative is left out
(`a - y` alone is the cross-entropy's delta). The verdict names the cost's `return`, not the line of
the backward pass that calls it."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import random

import numpy as np


def logistic(t):
    return 1.0 / (1.0 + np.exp(-t))


def logistic_slope(t):
    return logistic(t) * (1.0 - logistic(t))


class SquaredErrorCost:
    @staticmethod
    def fn(a, y):
        return np.sum((a - y) ** 2) / 2.0

    @staticmethod
    def delta(z, a, y):
        return (a - y) * logistic_slope(z)


class Network:
    def __init__(self, sizes, cost=SquaredErrorCost):
        self.num_layers = len(sizes)
        self.biases = [np.random.randn(n, 1) * 0.5 for n in sizes[1:]]
        self.weights = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.cost = cost

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = logistic(w @ a + b)
        return a

    def backprop(self, x, y):
        gb = [np.zeros_like(b) for b in self.biases]
        gw = [np.zeros_like(w) for w in self.weights]
        outs, ins = [x], []
        for b, w in zip(self.biases, self.weights):
            ins.append(w @ outs[-1] + b)
            outs.append(logistic(ins[-1]))
        d = self.cost.delta(ins[-1], outs[-1], y)
        gb[-1], gw[-1] = d, d @ outs[-2].T
        for k in range(2, self.num_layers):
            d = (self.weights[-k + 1].T @ d) * logistic_slope(ins[-k])
            gb[-k], gw[-k] = d, d @ outs[-k - 1].T
        return gb, gw

    def update_mini_batch(self, batch, eta):
        sb = [np.zeros_like(b) for b in self.biases]
        sw = [np.zeros_like(w) for w in self.weights]
        for x, y in batch:
            gb, gw = self.backprop(x, y)
            sb = [s + g for s, g in zip(sb, gb)]
            sw = [s + g for s, g in zip(sw, gw)]
        self.biases = [b - eta / len(batch) * s for b, s in zip(self.biases, sb)]
        self.weights = [w - eta / len(batch) * s for w, s in zip(self.weights, sw)]

    def total_cost(self, data):
        return sum(self.cost.fn(self.feedforward(x), y) for x, y in data) / len(data)

    def SGD(self, data, epochs, size, eta):
        for epoch in range(epochs):
            random.shuffle(data)
            for start in range(0, len(data), size):
                self.update_mini_batch(data[start:start + size], eta)
            print("epoch %d cost %.4f" % (epoch, self.total_cost(data)))


if __name__ == "__main__":
    random.seed(5)
    np.random.seed(5)
    samples = []
    for _ in range(60):
        x = np.random.rand(3, 1)
        y = np.array([[float(x[0, 0] > x[1, 0])], [float(x[2, 0] > 0.5)]])
        samples.append((x, y))
    Network([3, 7, 2]).SGD(samples, 15, 6, 2.0)
'''

RIGHT = "        return (a - y) * logistic_slope(z)\n"
BARE = "        return (a - y)\n"


def test_the_quadratic_cost_delta_with_its_slope_gets_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "squared_net.py", PROGRAM, RIGHT, RIGHT))) == []


def test_a_quadratic_cost_delta_without_the_slope_is_named_at_the_cost_return(tmp_path):
    path = planted(tmp_path, "squared_net.py", PROGRAM, RIGHT, BARE)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    line = line_of(path, "return (a - y)")
    assert (root["line"], root["pattern"]) == (line, "missing-activation-derivative")
    assert f"(line {line})" in " ".join(report["verdict"].split())
    assert "the sigmoid's derivative is left out" in root["message"]
    assert root["message"].endswith("return `(a - y) * logistic_slope(z)`")
