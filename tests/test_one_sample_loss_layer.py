"""A softmax-with-loss layer shown on one sample given as a vector (`x (3,)`, `t (3,)` one-hot, the
book's non-batch demo) sums that whole vector, which is right for one sample: it is not a batch
whose samples the sum couples."""

from __future__ import annotations

from tests.userfiles import check, write

DEMO = '''\
import numpy as np


def softmax(x):
    if x.ndim == 2:
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        y, t = y.reshape(1, -1), t.reshape(1, -1)
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, self.t)

    def backward(self, dout=1):
        batch_size = self.t.shape[0] if self.t.ndim == 2 else 1
        return dout * (self.y - self.t) / batch_size


layer = SoftmaxWithLoss()
print(layer.forward(np.array([5.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])))
print(layer.backward())
'''


def test_one_samples_vector_is_not_a_coupled_batch(tmp_path):
    report = check(write(tmp_path, "demo.py", DEMO))
    assert [f for f in report["findings"] if f["name"] == "batch-coupling"] == []
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
