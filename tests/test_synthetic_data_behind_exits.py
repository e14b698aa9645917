"""Data files a program reads that are not here, behind its own loader: a loader that exits when its
data file is missing (`if not os.path.exists(path): ...; exit()`, `assert os.path.exists(path)`) goes
on to read synthetic data when backprop-doctor has some for that file (an MNIST CSV, or a CSV the
loader says comes from Kaggle's digit recognizer); the question gets the truth for a file it has
nothing for, and for a program that does anything but exit without the file. CIFAR-10's batch files
are not made up: at the 10,000 images a file cs231n's loader reshapes to, a program that trains on
all of them outran the check's time (corpus, session 30), and a missing batch stays missing."""

from __future__ import annotations

import importlib.util

import pytest

from tests.userfiles import check, write

NET = """\
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size):
        rng = np.random.RandomState(0)
        self.params = {
            'W1': 0.01 * rng.randn(input_size, hidden_size), 'b1': np.zeros(hidden_size),
            'W2': 0.01 * rng.randn(hidden_size, output_size), 'b2': np.zeros(output_size),
        }

    def _forward(self, x):
        h = np.maximum(0, x @ self.params['W1'] + self.params['b1'])
        s = h @ self.params['W2'] + self.params['b2']
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        return h, p

    def loss(self, x, y):
        _, p = self._forward(x)
        return -np.log(p[np.arange(len(y)), y]).mean()

    def gradient(self, x, y):
        h, p = self._forward(x)
        dscores = p.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        grads = {'W2': h.T @ dscores, 'b2': dscores.sum(axis=0)}
        dh = dscores @ self.params['W2'].T
        dh[h <= 0] = 0
        grads['W1'] = x.T @ dh
        grads['b1'] = dh.sum(axis=0)
        return grads


def train(net, x, y, steps=5, lr=0.1):
    for _ in range(steps):
        grads = net.gradient(x, y)
        for key in net.params:
            net.params[key] -= lr * grads[key]
        print(net.loss(x, y))
"""

EXIT_GUARD = """\
import os
import sys

import numpy as np

from net import TwoLayerNet, train


def get_data(path):
    if not os.path.{check}(path):
        print('Download {name} and put it in data/ first')
        {leave}
    rows = np.loadtxt(open(path), delimiter=',')
    return rows[:, 1:] / 255.0, rows[:, 0].astype(int)


X, Y = get_data(os.path.join('data', '{name}'))
net = TwoLayerNet(784, 20, 10)
train(net, X[:200] - X[:200].mean(axis=0), Y[:200])
"""


def _codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"]]


def _synthetic(report: dict) -> list[str]:
    return [f["message"] for f in report["findings"] if f["code"] == "BPD022"]


@pytest.mark.parametrize("leave", ["exit()", "sys.exit(1)", "raise SystemExit('no data')", "quit()"])
def test_a_loader_that_exits_without_its_mnist_csv_reads_synthetic_digits(tmp_path, leave):
    write(tmp_path, "net.py", NET)
    main = write(tmp_path, "train.py", EXIT_GUARD.format(check="exists", name="mnist_train.csv", leave=leave))
    report = check(main)
    assert "BPD021" not in _codes(report), report["findings"]
    assert any("mnist_train.csv" in m for m in _synthetic(report))
    assert {m["layer"] for m in report["measurements"]} == {"TwoLayerNet"}


def test_an_isfile_guard_is_read_the_same_way(tmp_path):
    write(tmp_path, "net.py", NET)
    report = check(write(tmp_path, "train.py", EXIT_GUARD.format(check="isfile", name="mnist_test.csv", leave="exit()")))
    assert "BPD021" not in _codes(report) and {m["layer"] for m in report["measurements"]} == {"TwoLayerNet"}


def test_an_assertion_that_the_file_exists_is_read_the_same_way(tmp_path):
    write(tmp_path, "net.py", NET)
    program = EXIT_GUARD.format(check="exists", name="mnist_train.csv", leave="exit()").replace(
        "    if not os.path.exists(path):\n        print('Download mnist_train.csv and put it in data/ first')\n        exit()\n",
        "    assert os.path.exists(path), 'download mnist_train.csv first'\n",
    )
    assert "assert os.path.exists(path)" in program
    report = check(write(tmp_path, "train.py", program))
    assert "BPD021" not in _codes(report), report["findings"]
    assert any("mnist_train.csv" in m for m in _synthetic(report))


def test_a_loader_that_exits_without_a_file_nothing_stands_for_still_exits(tmp_path):
    write(tmp_path, "net.py", NET)
    report = check(write(tmp_path, "train.py", EXIT_GUARD.format(check="exists", name="houses.csv", leave="exit()")))
    (stopped,) = [f for f in report["findings"] if f["code"] == "BPD021"]
    assert "exit" in stopped["message"] and report["extras"]["observed_run"]["stopped"] == "exited"
    assert not _synthetic(report)


def test_a_missing_file_asked_about_for_anything_but_exiting_is_missing(tmp_path):
    """A program that makes its data when the file is not there must be told it is not there."""
    write(tmp_path, "net.py", NET)
    main = write(tmp_path, "train.py", """\
        import os

        import numpy as np

        from net import TwoLayerNet, train

        path = os.path.join('data', 'mnist_train.csv')
        if not os.path.exists(path):
            print('making the data')
            rng = np.random.RandomState(1)
            X, Y = rng.rand(100, 784), rng.randint(0, 10, 100)
        else:
            rows = np.loadtxt(open(path), delimiter=',')
            X, Y = rows[:, 1:] / 255.0, rows[:, 0].astype(int)
        assert X.shape == (100, 784)
        net = TwoLayerNet(784, 20, 10)
        train(net, X, Y)
    """)
    report = check(main)
    assert "BPD021" not in _codes(report), report["findings"]
    assert not _synthetic(report)
    assert {m["layer"] for m in report["measurements"]} == {"TwoLayerNet"}


def test_a_csv_of_any_name_is_digits_when_its_loader_names_the_digit_recognizer(tmp_path):
    if importlib.util.find_spec("pandas") is not None:
        pytest.skip("pandas is installed here: the real read_csv runs and raises for the missing file")
    write(tmp_path, "net.py", NET)
    write(tmp_path, "util.py", """\
        import os

        import numpy as np
        import pandas as pd


        def get_normalized_data():
            if not os.path.exists('../large_files/train.csv'):
                print('Get the data from https://www.kaggle.com/c/digit-recognizer')
                exit()
            data = pd.read_csv('../large_files/train.csv').values.astype(np.float32)
            X, Y = data[:, 1:] / 255.0, data[:, 0].astype(int)
            return X[:-1000], X[-1000:], Y[:-1000], Y[-1000:]


        def get_houses():
            if not os.path.exists('../large_files/houses.csv'):
                exit()
            return pd.read_csv('../large_files/houses.csv')
    """)
    main = write(tmp_path, "train.py", """\
        from net import TwoLayerNet, train
        from util import get_normalized_data

        Xtrain, Xtest, Ytrain, Ytest = get_normalized_data()
        net = TwoLayerNet(784, 20, 10)
        train(net, Xtrain[:200] - Xtrain[:200].mean(axis=0), Ytrain[:200])
    """)
    report = check(main)
    assert "BPD021" not in _codes(report), report["findings"]
    assert any("train.csv" in m for m in _synthetic(report))
    assert {m["layer"] for m in report["measurements"]} == {"TwoLayerNet"}
    other = write(tmp_path, "houses.py", "from util import get_houses\n\nprint(get_houses())\n")
    (stopped,) = [f for f in check(other)["findings"] if f["code"] == "BPD021"]
    assert "exit" in stopped["message"]
