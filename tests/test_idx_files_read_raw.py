"""MNIST's IDX files read raw by the user's own loader, with the files not there (`loading.datasets`).

A loader copied from many GAN and DCGAN tutorials opens `train-images.idx3-ubyte` as text, hands the
file object to `np.fromfile` (which needs a real descriptor) and reshapes past the header to MNIST's
own count, `(60000, 28, 28, 1)`. The synthetic file given in its place is a real file, and holds
that many samples (the synthetic ones repeated) when the reading code writes the count, so the
program runs on to its training, which is replayed and checked. Nothing is written to the user's
folder. Real CLI, in a subprocess.
"""

from __future__ import annotations

import os

from tests.userfiles import check, errors, step_verdicts, write

TEXT_LOADER = '''
import numpy as np


def mnist_reader():
    f = open('./data/train-images.idx3-ubyte')
    loaded = np.fromfile(file=f, dtype=np.uint8)
    images = loaded[16:].reshape((60000, 28, 28, 1))[:500]
    f = open('./data/train-labels.idx1-ubyte')
    loaded = np.fromfile(file=f, dtype=np.uint8)
    labels = loaded[8:].reshape((60000))[:500]
    return images.reshape(500, -1).astype(np.float64) / 255.0, labels.astype(np.int64)
'''

BINARY_LOADER = '''
import numpy as np


def mnist_reader():
    with open('data/t10k-images-idx3-ubyte', 'rb') as f:
        images = np.fromfile(f, dtype=np.uint8)[16:].reshape(10000, 784)[:500]
    with open('data/t10k-labels-idx1-ubyte', 'rb') as f:
        labels = np.fromfile(f, dtype=np.uint8)[8:].reshape(10000)[:500]
    return images.astype(np.float64) / 255.0, labels.astype(np.int64)
'''

TRAIN = '''
import numpy as np
from utils import mnist_reader

X, y = mnist_reader()
n = X.shape[0]
Y = np.eye(10)[y]
rng = np.random.default_rng(0)
W = 0.01 * rng.standard_normal((784, 10))
b = np.zeros(10)
for it in range(40):
    z = X @ W + b
    z = z - z.max(axis=1, keepdims=True)
    P = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(P[np.arange(n), y]))
    dz = (P - Y) / n
    dW = X.T @ dz
    db = dz.sum(axis=0)
    W -= 0.5 * dW
    b -= 0.5 * db
'''

WRONG = ("    db = dz.sum(axis=0)\n", "    db = dz.sum(axis=0) * 2\n")


def _folder(tmp_path, loader, wrong=False):
    write(tmp_path, "utils.py", loader)
    path = write(tmp_path, "train.py", TRAIN.replace(*WRONG) if wrong else TRAIN)
    (tmp_path / "data").mkdir()
    return path


def _state(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*"))


def _runs_and_is_checked(tmp_path, loader):
    tmp_path.mkdir(exist_ok=True)
    path = _folder(tmp_path, loader)
    before = _state(tmp_path)
    report = check(path, training=True)
    assert _state(tmp_path) == before  # nothing written to the user's folder
    assert not any(f["name"] == "program-stopped" for f in report["findings"]), report["findings"]
    assert report["extras"]["observed_run"]["stopped"] != "raised", report["extras"]["observed_run"]
    verdicts = step_verdicts(report)
    assert verdicts and set(verdicts.values()) == {"ok"}, verdicts
    assert errors(report) == []
    synthetic = [f["message"] for f in report["findings"] if f["name"] == "synthetic-data"]
    assert any("repeated to MNIST's own count" in m for m in synthetic), synthetic
    return report


def test_a_loader_that_opens_the_idx_file_as_text_for_np_fromfile_runs_to_its_training(tmp_path):
    report = _runs_and_is_checked(tmp_path / "text", TEXT_LOADER)
    assert any("60000 synthetic images" in f["message"] for f in report["findings"])
    _header_reader_gets_the_few_synthetic_samples(tmp_path / "header")


def test_a_loader_reading_the_test_split_in_binary_at_its_own_count_runs_to_its_training(tmp_path):
    report = _runs_and_is_checked(tmp_path, BINARY_LOADER)
    assert any("10000 synthetic images" in f["message"] for f in report["findings"])


def test_a_wrong_gradient_behind_such_a_loader_is_found_on_the_programs_own_run(tmp_path):
    path = _folder(tmp_path, TEXT_LOADER, wrong=True)
    report = check(path, training=True)
    assert not any(f["name"] == "program-stopped" for f in report["findings"]), report["findings"]
    assert step_verdicts(report).get("b") == "mismatch", step_verdicts(report)
    assert errors(report)


def _header_reader_gets_the_few_synthetic_samples(tmp_path):
    """No count written: the synthetic split's own size, as before (a reader that reads n from the header)."""
    tmp_path.mkdir()
    loader = '''
    import numpy as np


    def mnist_reader():
        with open('data/train-images-idx3-ubyte', 'rb') as f:
            raw = np.fromfile(f, dtype=np.uint8)
        n = int.from_bytes(raw[4:8].tobytes(), 'big')
        with open('data/train-labels-idx1-ubyte', 'rb') as f:
            labels = np.fromfile(f, dtype=np.uint8)[8:]
        return raw[16:].reshape(n, 784)[:500].astype(np.float64) / 255.0, labels[:500].astype(np.int64)
    '''
    path = _folder(tmp_path, loader)
    report = check(path, training=True)
    assert set(step_verdicts(report).values()) == {"ok"}
    synthetic = [f["message"] for f in report["findings"] if f["name"] == "synthetic-data"]
    assert synthetic and not any("repeated" in m for m in synthetic), synthetic
    assert os.listdir(tmp_path / "data") == []
