"""A factor a layer's gradient is off by is called the batch size only when its input has a batch:
one 1-D sample's length is its number of classes or features (`t.shape[0]` of a one-hot vector)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

LOSS_LAYER = """\
import numpy as np


def softmax(a):
    a = a - np.max(a, axis=-1, keepdims=True)
    return np.exp(a) / np.sum(np.exp(a), axis=-1, keepdims=True)


class SoftmaxLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        y, t = (self.y.reshape(1, -1), t.reshape(1, -1)) if self.y.ndim == 1 else (self.y, t)
        return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]

    def backward(self, dout=1):
        n = self.t.shape[0]
        return dout * (self.y - self.t) / n


layer = SoftmaxLoss()
print(layer.forward(np.array([2.0, 0.5, -1.0]), np.array([1.0, 0.0, 0.0])), layer.backward())
"""


def test_a_one_sample_gradient_divided_by_its_class_count_is_not_called_the_batch_size(tmp_path):
    path = write(tmp_path, "loss_layer.py", LOSS_LAYER)
    (finding,) = errors(check(path))
    assert finding["line"] == line_of(path, "return dout * (self.y - self.t) / n")
    assert "batch size" not in finding["message"]
    assert "0.3333 × the numerical gradient" in finding["message"]
