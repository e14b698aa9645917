"""A program written for Python 2 runs with Python 2's meanings in the files that are Python 2 code:
`import cPickle` is `pickle` (reading Python 2's pickles, their `str` as latin-1), and `zip`, `map`,
`filter` and `range` give lists (`len(zip(...))`, `data[:40]`, `random.shuffle(range(n))`), in the
checked file and in a module it imports, also one that parses as Python 3 but imports `cPickle`.
A Python 3 file keeps Python 3's meanings, also when it star-imports a Python 2 module."""

from __future__ import annotations

import gzip
import pickle

import numpy as np

from tests.userfiles import check, errors, planted, write

# parses as Python 3; `cPickle` and `zip(...)` used as a list make it Python 2 code
LOADER = """\
import cPickle
import gzip

import numpy as np


def one_hot(j):
    e = np.zeros((3, 1))
    e[j] = 1.0
    return e


def load():
    f = gzip.open('samples.pkl.gz', 'rb')
    x, y = cPickle.load(f)
    f.close()
    title = cPickle.load(open('title.pkl', 'rb'))
    inputs = [np.reshape(a, (4, 1)) for a in x]
    training = zip(inputs, map(one_hot, y))
    test = zip(inputs, y)
    return title, training, test
"""

NET = """\
import random

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network(object):
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
        for j in xrange(epochs):
            random.shuffle(training_data)
            batches = [training_data[k:k + mini_batch_size] for k in xrange(0, n, mini_batch_size)]
            for batch in batches:
                self.update_mini_batch(batch, eta)
            print "Epoch {0} complete".format(j)

    def update_mini_batch(self, batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in batch:
            delta_b, delta_w = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, delta_b)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, delta_w)]
        self.weights = [w - (eta / len(batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(batch)) * nb for b, nb in zip(self.biases, nabla_b)]

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
        for l in xrange(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sigmoid_prime(zs[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)
"""

WRONG = ("delta) * sigmoid_prime(zs[-l])", "delta) * sigmoid(zs[-l])")

TRAIN = """\
import random

import loader
import net

title, training, test = loader.load()
print "%s: %d samples" % (title, len(training))
order = range(len(training))
random.shuffle(order)
chosen = filter(lambda i: i % 2 == 0, order)
print len(chosen), len(test)
network = net.Network([4, 5, 3])
network.SGD(training[:40], 2, 10, 1.0)
"""


def _data(folder):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    x = (np.eye(3)[y] @ rng.standard_normal((3, 4)) + 0.1 * rng.standard_normal((60, 4))).astype(np.float32)
    with gzip.open(folder / "samples.pkl.gz", "wb") as f:
        pickle.dump((x, y), f, protocol=2)
    # a `str` as Python 2 pickles it (SHORT_BINSTRING), with a byte outside ASCII: Python 3's default
    # reading stops on it with UnicodeDecodeError
    (folder / "title.pkl").write_bytes(b"\x80\x02U\x04caf\xe9q\x00.")


def _program(folder, net=NET):
    _data(folder)
    write(folder, "loader.py", LOADER)
    write(folder, "net.py", net)
    return write(folder, "train.py", TRAIN)


def test_a_python2_program_runs_past_its_loader_and_its_network_is_checked(tmp_path):
    report = check(_program(tmp_path))
    codes = [f["code"] for f in report["findings"]]
    assert "BPD007" not in codes and "BPD021" not in codes, report["findings"]
    assert {m["layer"] for m in report["measurements"]} == {"Network"}
    assert all(m["verdict"] == "ok" for m in report["measurements"])
    # the run reached the network: the observed run built it at line 12
    assert [(i["class"], i["line"]) for i in report["extras"]["observed_run"]["instances"]] == [("Network", 12)]
    (note,) = [f for f in report["findings"] if f["code"] == "BPD003"]
    assert "`cPickle`" in note["message"] and "`pickle`" in note["message"] and note["fix"] == "import pickle"


def test_a_wrong_gradient_of_a_python2_network_is_found(tmp_path):
    _data(tmp_path)
    write(tmp_path, "loader.py", LOADER)
    planted(tmp_path, "net.py", NET, *WRONG)
    report = check(write(tmp_path, "train.py", TRAIN))
    assert errors(report), report["findings"]
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "Network"} != {"ok"}


def test_a_python3_file_keeps_python3_zip_beside_a_python2_module(tmp_path):
    """`next(zip(...))` needs Python 3's iterator: a list would stop the program with TypeError.
    The Python 2 module's lists stay in that module (`from helpers import *` does not carry them)."""
    write(tmp_path, "helpers.py", """\
        def describe(items):
            print "%d items" % len(zip(items, items))
    """)
    main = write(tmp_path, "train.py", """\
        import numpy as np
        from helpers import *
        try:
            import cPickle as pickle
        except ImportError:
            import pickle


        class Affine:
            def __init__(self, W, b):
                self.W, self.b = W, b

            def forward(self, x):
                self.x = x
                return x @ self.W + self.b

            def backward(self, dout):
                self.dW = self.x.T @ dout
                self.db = dout.sum(axis=0)
                return dout @ self.W.T


        rng = np.random.default_rng(0)
        pairs = zip(rng.standard_normal((6, 3)), range(6))
        first, label = next(pairs)
        numbers = map(float, [1, 2])
        assert next(numbers) == 1.0 and isinstance(range(3), range)
        describe([1, 2, 3])
        layer = Affine(rng.standard_normal((3, 2)), np.zeros(2))
        out = layer.forward(np.stack([first, first]))
        layer.backward(np.ones_like(out))
    """)
    report = check(main)
    codes = [f["code"] for f in report["findings"]]
    assert "BPD021" not in codes, report["findings"]
    assert {m["layer"] for m in report["measurements"]} == {"Affine"}
    assert report["extras"]["observed_run"]["instances"][0]["class"] == "Affine"
