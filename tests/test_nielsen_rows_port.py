"""A port of Nielsen's network whose `backprop` takes a mini-batch of rows.

`update_mini_batch` stacks the batch (`x = np.squeeze(x)`), so `backprop` computes
`np.dot(activation, W.transpose()) + b.transpose()`, one row per sample, while `feedforward` still
takes one column (`np.dot(W, a) + b`) for the accuracy. backprop-doctor fed the one column the book's
network takes, `backprop` raised on it, and that was an error at a right line. The network is now
checked on a batch of rows, its cost taken through `feedforward` of the transpose.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

PROGRAM = """\
    import numpy as np


    class Sigmoid:
        @staticmethod
        def activation(z):
            return 1.0 / (1.0 + np.exp(-z))

        @staticmethod
        def prime(z):
            s = 1.0 / (1.0 + np.exp(-z))
            return s * (1 - s)


    class CrossEntropyCost:
        @staticmethod
        def fn(a, y):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

        @staticmethod
        def delta(prime_z, a, y):
            return a - y


    class Network:
        def __init__(self, sizes, cost=CrossEntropyCost, act_fn=Sigmoid):
            self.num_layers = len(sizes)
            self.sizes = sizes
            self.weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
            self.biases = [np.random.randn(y, 1) * 0.1 for y in sizes[1:]]
            self.cost = cost
            self.act_fn = act_fn

        def feedforward(self, a):
            for b, W in zip(self.biases, self.weights):
                a = self.act_fn.activation(np.dot(W, a) + b)
            return a

        def update_mini_batch(self, mini_batch, eta):
            x, y = zip(*mini_batch)
            x = np.squeeze(np.array(x), axis=-1)
            y = np.squeeze(np.array(y), axis=-1)
            nabla_b, nabla_w = self.backprop(x, y)
            self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
            self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

        def backprop(self, x, y):
            nabla_b = [np.zeros(b.shape) for b in self.biases]
            nabla_w = [np.zeros(w.shape) for w in self.weights]
            activation = x
            activations = [x]
            zs = []
            for b, W in zip(self.biases, self.weights):
                z = np.dot(activation, W.transpose()) + b.transpose()
                zs.append(z)
                activation = self.act_fn.activation(z)
                activations.append(activation)
            delta = self.cost.delta(self.act_fn.prime(zs[-1]), activations[-1], y)
            nabla_b[-1] = np.expand_dims(np.sum(delta, axis=0), axis=1)
            nabla_w[-1] = np.dot(delta.transpose(), activations[-2])
            for l in range(2, self.num_layers):
                sp = self.act_fn.prime(zs[-l])
                delta = sp * np.dot(delta, self.weights[-l + 1])
                nabla_b[-l] = np.expand_dims(np.sum(delta, axis=0), axis=1)
                nabla_w[-l] = np.dot(delta.transpose(), activations[-l - 1])
            return (nabla_b, nabla_w)
"""


def test_a_port_that_takes_rows_is_checked_and_clean(tmp_path):
    path = planted(tmp_path, "layer.py", PROGRAM, "delta = sp * np.dot(delta, self.weights[-l + 1])", "delta = sp * np.dot(delta, self.weights[-l + 1])")
    report = check(path)
    assert errors(report) == []
    rows = [m for m in report["measurements"] if m["layer"] == "Network"]
    assert {m["param"] for m in rows} == {"weights[0]", "weights[1]", "biases[0]", "biases[1]"}
    assert all(m["verdict"] == "ok" and m["relative_error"] < 1e-5 for m in rows)
    (built,) = [b for b in report["built"] if b["what"] == "Network"]
    assert "row per sample" in built["shapes"]


def test_a_hidden_delta_without_the_slope_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "layer.py", PROGRAM, "delta = sp * np.dot(delta, self.weights[-l + 1])", "delta = np.dot(delta, self.weights[-l + 1])")
    report = check(path)
    found = errors(report)
    assert found and found[0]["layer"] == "Network" and found[0]["name"] == "gradient-mismatch"
    assert not [f for f in report["findings"] if f["name"] == "layer-raised"]
    lines = {line_of(path, "delta = np.dot(delta, self.weights[-l + 1])"), line_of(path, "nabla_w[-l] = np.dot(delta.transpose()")}
    assert found[0]["line"] in lines
