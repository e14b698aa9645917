"""Data files a program reads that are not here, behind its own loader:

- CIFAR-10's python batches (`data_batch_1` ... `data_batch_5`, `test_batch`, `batches.meta`), read
  as cs231n reads them (`pickle.load(f, encoding='latin1')`, then `reshape(10000, 3, 32, 32)`) or
  with `encoding='bytes'` (`datadict[b'data']`), and the binary `data_batch_1.bin`: each read gives
  synthetic images of the real layout, 10,000 a file, and a `synthetic-data` note says so;
- a loader that exits when its data file is missing (`if not os.path.exists(path): ...; exit()`,
  `assert os.path.exists(path)`)
  goes on to read synthetic data when backprop-doctor has some for that file (an MNIST CSV, or a
  CSV the loader says comes from Kaggle's digit recognizer); the question gets the truth for a
  file it has nothing for, and for a program that does anything but exit without the file."""

from __future__ import annotations

import importlib.util

import pytest

from tests.userfiles import check, errors, planted, write

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

WRONG = ("dh[h <= 0] = 0", "dh[h < 0] = 0\n        dh *= 2")

CIFAR_PICKLES = """\
import os
import pickle

import numpy as np

from net import TwoLayerNet, train

ROOT = os.path.join('datasets', 'cifar-10-batches-py')


def load_batch(filename):
    with open(filename, 'rb') as f:
        datadict = pickle.load(f, encoding='latin1')
    X = datadict['data'].reshape(10000, 3, 32, 32).transpose(0, 2, 3, 1).astype('float32')
    return X, np.array(datadict['labels'])


def load_cifar(root):
    xs, ys = [], []
    for b in range(1, 3):
        X, Y = load_batch(os.path.join(root, 'data_batch_%d' % b))
        xs.append(X)
        ys.append(Y)
    Xte, Yte = load_batch(os.path.join(root, 'test_batch'))
    return np.concatenate(xs), np.concatenate(ys), Xte, Yte


X_train, y_train, X_test, y_test = load_cifar(ROOT)
assert X_train.shape == (20000, 32, 32, 3) and X_test.shape == (10000, 32, 32, 3)
with open(os.path.join(ROOT, 'batches.meta'), 'rb') as f:
    names = pickle.load(f, encoding='bytes')[b'label_names']
print(len(names), names[0])
with open(os.path.join(ROOT, 'data_batch_3'), 'rb') as f:
    raw = pickle.load(f, encoding='bytes')
assert raw[b'data'].shape == (10000, 3072) and len(raw[b'labels']) == 10000

mask = list(range(19000, 19200))  # the held-out slice a notebook takes past the first 19,000
X_val = X_train[mask].reshape(200, -1) / 255.0
X_val -= X_val.mean(axis=0)
net = TwoLayerNet(3072, 20, 10)
train(net, X_val, y_train[mask])
"""

CIFAR_BINARY = """\
import numpy as np

from net import TwoLayerNet, train

records = np.fromfile('cifar-10-batches-bin/data_batch_1.bin', dtype=np.uint8).reshape(-1, 3073)
labels, images = records[:, 0].astype(int), records[:, 1:]
assert images.shape == (10000, 3072) and labels.max() == 9
x = images[:200] / 255.0
net = TwoLayerNet(3072, 20, 10)
train(net, x - x.mean(axis=0), labels[:200])
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


def test_cifar_batches_read_with_pickle_are_synthetic_images_of_the_real_layout(tmp_path):
    write(tmp_path, "net.py", NET)
    report = check(write(tmp_path, "train.py", CIFAR_PICKLES))
    assert "BPD021" not in _codes(report), report["findings"]
    notes = _synthetic(report)  # one a line that reads: the batches, `batches.meta`
    assert notes and all("CIFAR-10" in n for n in notes) and "(10000, 3072) uint8" in notes[0]
    assert report["extras"]["observed_run"]["instances"][0]["class"] == "TwoLayerNet"
    assert {m["layer"] for m in report["measurements"]} == {"TwoLayerNet"}
    assert all(m["verdict"] == "ok" for m in report["measurements"])
    assert not (tmp_path / "datasets").exists()  # nothing written where the program looked


def test_a_wrong_gradient_is_found_on_synthetic_cifar_batches(tmp_path):
    planted(tmp_path, "net.py", NET, *WRONG)
    report = check(write(tmp_path, "train.py", CIFAR_PICKLES))
    assert [(e["layer"], e["param"]) for e in errors(report) if e["code"] == "BPD101"], report["findings"]


def test_the_binary_cifar_batch_is_synthetic_records_of_a_label_and_3072_pixels(tmp_path):
    write(tmp_path, "net.py", NET)
    report = check(write(tmp_path, "train.py", CIFAR_BINARY))
    assert "BPD021" not in _codes(report), report["findings"]
    assert _synthetic(report)
    assert {m["layer"] for m in report["measurements"]} == {"TwoLayerNet"}


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
