"""A layer that keeps its parameters' gradients as the batch's mean is read in the course
convention where the loss hands down each sample's own gradient (`derivative()` returning
`self.sm - self.labels`, the mean left to the layers). Beside a loss in the same file whose
backward divides by the batch already (the book's `SoftmaxWithLoss`), the same layer divides by
N twice: that is a wrong gradient, named at the division, even with no network to check it
through. Two styles; the correct twins are clean, and the course convention stays clean."""

import pytest

from tests.userfiles import check, line_of, planted, write

# the book's layers: `dW`/`db` attributes, a loss layer dividing by the batch size
BOOK = """
    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.W = W
            self.b = b
            self.x = None
            self.dW = None
            self.db = None

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            batch = self.x.shape[0]
            dx = np.dot(dout, self.W.T)
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return dx


    class Sigmoid:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * self.out * (1.0 - self.out)


    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            shifted = x - x.max(axis=1, keepdims=True)
            self.y = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

        def backward(self, dout=1):
            batch_size = self.t.shape[0]
            return dout * (self.y - self.t) / batch_size
"""
BOOK_RIGHT = ("self.dW = np.dot(self.x.T, dout)", "self.db = np.sum(dout, axis=0)")
BOOK_WRONG = ("self.dW = np.dot(self.x.T, dout) / batch", "self.db = np.sum(dout, axis=0) / batch")

# a Keras-like dense layer: `grad_weights`/`grad_bias`, a squared-error loss taking the mean
DENSE = """
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out):
            rng = np.random.default_rng(3)
            self.weights = rng.normal(0.0, 0.4, (n_in, n_out))
            self.bias = np.zeros(n_out)

        def forward(self, inputs):
            self.inputs = inputs
            return inputs @ self.weights + self.bias

        def backward(self, grad_out):
            m = len(self.inputs)
            self.grad_weights = self.inputs.T @ grad_out
            self.grad_bias = grad_out.sum(axis=0)
            return grad_out @ self.weights.T


    class MeanSquaredError:
        def forward(self, prediction, target):
            self.diff = prediction - target
            return np.mean(self.diff ** 2)

        def backward(self):
            return 2.0 * self.diff / self.diff.size
"""
DENSE_RIGHT = ("self.grad_weights = self.inputs.T @ grad_out", "self.grad_bias = grad_out.sum(axis=0)")
DENSE_WRONG = ("self.grad_weights = self.inputs.T @ grad_out / m", "self.grad_bias = grad_out.mean(axis=0)")

# the course's convention: the loss hands down each sample's own gradient, the layer takes the mean
COURSE = """
    import numpy as np


    class Linear:
        def __init__(self, in_feature, out_feature):
            self.W = np.random.randn(in_feature, out_feature) * 0.2
            self.b = np.zeros((1, out_feature))

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, delta):
            batch_size = delta.shape[0]
            self.dW = self.x.T @ delta / batch_size
            self.db = np.mean(delta, axis=0, keepdims=True)
            return delta @ self.W.T


    class SoftmaxCrossEntropy:
        def forward(self, x, y):
            self.labels = y
            e = np.exp(x - x.max(axis=1, keepdims=True))
            self.sm = e / e.sum(axis=1, keepdims=True)
            return -np.sum(y * np.log(self.sm), axis=1)

        def derivative(self):
            return self.sm - self.labels
"""


def _twice(source: str, right: tuple[str, str], wrong: tuple[str, str]) -> str:
    for r, w in zip(right, wrong):
        source = source.replace(r, w)
    return source


STYLES = [pytest.param(BOOK, BOOK_RIGHT, BOOK_WRONG, "Affine", id="book"), pytest.param(DENSE, DENSE_RIGHT, DENSE_WRONG, "Dense", id="dense")]


@pytest.mark.parametrize(("source", "right", "wrong", "layer"), STYLES)
def test_a_layer_taking_the_mean_again_beside_a_mean_loss_is_named(tmp_path, source, right, wrong, layer):
    path = write(tmp_path, "layers.py", _twice(source, right, wrong))
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["layer"] == layer, root
    assert root["line"] in (line_of(path, wrong[0]), line_of(path, wrong[1])), root


@pytest.mark.parametrize(("source", "right", "wrong", "layer"), STYLES)
def test_the_correct_twin_is_clean(tmp_path, source, right, wrong, layer):
    report = check(write(tmp_path, "layers.py", source))
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == layer and m["verdict"] == "ok"} >= {"x"}, report["measurements"]
    assert not [f for f in report["findings"] if f["severity"] != "info"], report["findings"]


def test_the_course_convention_of_a_mean_in_the_layer_stays_clean(tmp_path):
    report = check(write(tmp_path, "mytorch.py", COURSE))
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Linear" and m["verdict"] == "ok"} >= {"x", "W", "b"}, report["measurements"]


def test_a_course_layer_dividing_twice_is_still_named(tmp_path):
    wrong = "self.dW = self.x.T @ delta / batch_size ** 2"
    path = planted(tmp_path, "mytorch.py", COURSE, "self.dW = self.x.T @ delta / batch_size", wrong)
    root = check(path)["findings"]
    assert any(f["severity"] == "error" and f["line"] == line_of(path, wrong) for f in root), root
