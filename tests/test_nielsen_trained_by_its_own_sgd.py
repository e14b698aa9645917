"""Nielsen's `network.py` trained by its own `SGD` over several epochs, as the book's driver does.

The training step the replay checks is one pass of `SGD`'s epoch loop: it shuffles, cuts the data
into mini-batches and calls `update_mini_batch` on each. The program computes no loss, so the
replay judges the updates against the quadratic cost `update_mini_batch` implies, summed over the
batch of the first update: the first of the pass's `mini_batches`, not what `mini_batch` held
when the pass began (the last batch of the epoch before).
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed

NETWORK = """
import random

import numpy as np


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
        n = len(training_data)
        for j in range(epochs):
            random.shuffle(training_data)
            mini_batches = [training_data[k:k + mini_batch_size] for k in range(0, n, mini_batch_size)]
            for mini_batch in mini_batches:
                self.update_mini_batch(mini_batch, eta)

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
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


if __name__ == "__main__":
    np.random.seed(1)
    random.seed(1)
    data = [(np.random.randn(4, 1), np.eye(3)[:, [i % 3]]) for i in range(40)]
    net = Network([4, 6, 3])
    net.SGD(data, 3, 10, 3.0)
"""

HIDDEN_DELTA = "delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp"


def test_the_book_network_trained_over_epochs_gets_no_finding(tmp_path: Path) -> None:
    path = planted(tmp_path, "network.py", NETWORK, HIDDEN_DELTA, HIDDEN_DELTA)
    report = check(path)
    assert report["findings"] == []
    step = replayed(report)
    assert step["loss"] == "Σ ½‖feedforward(x) − y‖²"
    assert [p["wrong"] for p in step["parameters"]] == [False] * 4
    judged = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert judged == dict.fromkeys(["self.weights[0]", "self.weights[1]", "self.biases[0]", "self.biases[1]"], "ok")


def test_its_hidden_delta_without_the_sigmoid_slope_is_the_root_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "network.py", NETWORK, HIDDEN_DELTA, "delta = np.dot(self.weights[-l + 1].transpose(), delta)")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD101"
    assert root["line"] == line_of(path, "delta = np.dot(self.weights[-l + 1].transpose(), delta)")
    judged = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert judged["self.weights[0]"] == "mismatch" and judged["self.weights[1]"] == "ok"
    assert {f["code"] for f in errors(report)} == {"BPD101"}
    assert root["pattern"] == "missing-activation-derivative"
    assert f"`sp = sigmoid_prime(z)` (line {line_of(path, 'sp = sigmoid_prime(z)')}) is computed and never used" in root["message"]
    assert f"left out of line {root['line']}: multiply the gradient there by `sp`" in root["message"]


def test_a_sum_over_the_batch_overwritten_by_each_sample_is_named_where_it_is_overwritten(tmp_path: Path) -> None:
    """`nabla_w = delta_nabla_w` keeps the last sample's gradient instead of the batch's sum: the update
    walks `zip(self.weights, nabla_w)`, and the line that makes `nabla_w` is the one in the loop."""
    path = planted(tmp_path, "network.py", NETWORK, "nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]", "nabla_w = delta_nabla_w")
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and {f["line"] for f in found} == {line_of(path, "nabla_w = delta_nabla_w")}
