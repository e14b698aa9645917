"""A user's own copy of TensorFlow 1's tutorial `input_data.py`, with MNIST not downloaded yet.

Its `read_data_sets(train_dir, fake_data=False, one_hot=False)` creates `train_dir` and downloads
MNIST's four `.gz` files into it; the sandbox refuses both, and the program stopped there. With
the files not in that folder, the call gives the synthetic data sets (`train.images`,
`train.labels`, `next_batch`) instead, nothing is created in the user's folder, and the program
runs on to its training, which is replayed and checked. Real CLI, in a subprocess.
"""

from __future__ import annotations

from tests.userfiles import check, errors, step_verdicts, write

INPUT_DATA = '''
"""Reads MNIST, downloading it first when it is not there."""
import gzip
import os
import urllib.request

import numpy as np

SOURCE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'


def maybe_download(filename, work_directory):
    if not os.path.exists(work_directory):
        os.mkdir(work_directory)
    filepath = os.path.join(work_directory, filename)
    if not os.path.exists(filepath):
        filepath, _ = urllib.request.urlretrieve(SOURCE_URL + filename, filepath)
    return filepath


def _ints(stream, count):
    return np.frombuffer(stream.read(4 * count), dtype='>u4')


def extract_images(path):
    with gzip.open(path) as stream:
        _, n, rows, cols = _ints(stream, 4)
        return np.frombuffer(stream.read(int(n * rows * cols)), dtype=np.uint8).reshape(n, rows * cols)


def extract_labels(path, one_hot=False):
    with gzip.open(path) as stream:
        _, n = _ints(stream, 2)
        labels = np.frombuffer(stream.read(int(n)), dtype=np.uint8)
    return np.eye(10)[labels] if one_hot else labels


class DataSet:
    def __init__(self, images, labels):
        self.images = images.astype(np.float32) / 255.0
        self.labels = labels
        self.num_examples = len(images)
        self._at = 0

    def next_batch(self, size):
        start, self._at = self._at, self._at + size
        if self._at > self.num_examples:
            start, self._at = 0, size
        return self.images[start:self._at], self.labels[start:self._at]


def read_data_sets(train_dir, fake_data=False, one_hot=False):
    class DataSets:
        pass

    sets = DataSets()
    images = extract_images(maybe_download('train-images-idx3-ubyte.gz', train_dir))
    labels = extract_labels(maybe_download('train-labels-idx1-ubyte.gz', train_dir), one_hot)
    test_images = extract_images(maybe_download('t10k-images-idx3-ubyte.gz', train_dir))
    test_labels = extract_labels(maybe_download('t10k-labels-idx1-ubyte.gz', train_dir), one_hot)
    sets.train = DataSet(images[5000:], labels[5000:])
    sets.validation = DataSet(images[:5000], labels[:5000])
    sets.test = DataSet(test_images, test_labels)
    return sets
'''

# the top-level `import input_data`, one-hot targets, mini-batches from next_batch
BATCHES = '''
import numpy as np
import input_data

mnist = input_data.read_data_sets('data/MNIST_data/', one_hot=True)
rng = np.random.default_rng(0)
W = 0.01 * rng.standard_normal((784, 10))
b = np.zeros(10)
for step in range(60):
    X, Y = mnist.train.next_batch(100)
    z = X @ W + b
    P = np.exp(z - z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(P), axis=1))
    dz = (P - Y) / len(X)
    dW = X.T @ dz
    db = dz.sum(axis=0)
    W -= 0.5 * dW
    b -= 0.5 * db
'''

# a package's `from mylib import input_data`, labels as integers, the whole training set at once
PACKAGE = '''
import numpy as np
from mylib import input_data


def train(X, y, epochs=30, lr=0.5):
    n = len(X)
    W = np.zeros((X.shape[1], 10))
    for epoch in range(epochs):
        z = X @ W
        P = np.exp(z - z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.log(P[np.arange(n), y]).mean()
        P[np.arange(n), y] -= 1
        dW = X.T @ P / n
        W -= lr * dW
    return W


if __name__ == '__main__':
    data = input_data.read_data_sets("MNIST_data", one_hot=False)
    X, y = data.train.images[:300], data.train.labels[:300].astype(np.int64)
    train(X, y)
'''


def _state(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*"))


def _checked(tmp_path, program, loader_at, wrong=None):
    write(tmp_path, loader_at, INPUT_DATA)
    if "/" in loader_at:
        write(tmp_path, loader_at.rsplit("/", 1)[0] + "/__init__.py", "")
    path = write(tmp_path, "train.py", program.replace(*wrong) if wrong else program)
    (tmp_path / "data").mkdir()
    before = _state(tmp_path)
    report = check(path, training=True)
    assert _state(tmp_path) == before  # no folder made, nothing downloaded into the user's folder
    assert not any(f["name"] in ("program-stopped", "sandbox-blocked") for f in report["findings"]), report["findings"]
    synthetic = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert len(synthetic) == 1 and "`read_data_sets`" in synthetic[0]["message"], synthetic
    assert "input_data.read_data_sets(" in (tmp_path / "train.py").read_text().splitlines()[synthetic[0]["line"] - 1]
    return report


def test_a_tutorial_loader_imported_at_the_top_level_gives_synthetic_batches(tmp_path):
    (tmp_path / "missing").mkdir()
    report = _checked(tmp_path / "missing", BATCHES, "input_data.py")
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)
    assert errors(report) == []
    (tmp_path / "there").mkdir()
    _files_there_are_read_by_the_users_own_code(tmp_path / "there")


def test_a_tutorial_loader_in_a_package_gives_synthetic_labels(tmp_path):
    report = _checked(tmp_path, PACKAGE, "mylib/input_data.py")
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)
    assert errors(report) == []


def test_a_wrong_gradient_after_such_a_loader_is_found(tmp_path):
    report = _checked(tmp_path, PACKAGE, "mylib/input_data.py", wrong=("        dW = X.T @ P / n\n", "        dW = X.T @ P\n"))
    assert step_verdicts(report).get("W") == "mismatch", step_verdicts(report)
    assert errors(report)


def _files_there_are_read_by_the_users_own_code(tmp_path):
    """The four files there: nothing stands in; the user's reader reads them (a tiny MNIST of 6 samples)."""
    import gzip
    import struct

    import numpy as np

    folder = tmp_path / "data" / "MNIST_data"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 5006), ("t10k", 6)):
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as out:
            out.write(struct.pack(">IIII", 2051, n, 28, 28) + rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes())
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as out:
            out.write(struct.pack(">II", 2049, n) + (np.arange(n) % 10).astype(np.uint8).tobytes())
    write(tmp_path, "input_data.py", INPUT_DATA)
    path = write(tmp_path, "train.py", BATCHES.replace("next_batch(100)", "next_batch(3)"))
    before = _state(tmp_path)
    report = check(path, training=True)
    assert _state(tmp_path) == before
    assert not any(f["name"] == "synthetic-data" for f in report["findings"]), report["findings"]
    assert not any(f["name"] in ("program-stopped", "sandbox-blocked") for f in report["findings"]), report["findings"]
