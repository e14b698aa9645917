"""A loss object that is given its targets once, in its constructor, and then only the prediction
(`forward(pred)` returns one number, `backward()` takes no upstream gradient and returns that number's
gradient): what backward returns is the gradient of the loss itself, checked as such, not read as a
layer's dx for some upstream gradient of the check's choosing (a constant factor false alarm). A wrong
factor is still an error at its line.

Two styles: a squared-error object under a linear layer, and a softmax cross-entropy object holding
one-hot labels under a two-layer network of layer objects.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

SQUARED = '''\
import numpy as np


class SquaredError:
    def __init__(self, target):
        self.target = target

    def forward(self, pred):
        self.pred = pred
        return np.mean((pred - self.target) ** 2)

    def backward(self):
        return 2 * (self.pred - self.target) / self.pred.size


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 0.5, (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
Y = X @ rng.normal(size=(3, 2))
layer = Linear(3, 2, rng)
criterion = SquaredError(Y)
for it in range(100):
    loss = criterion.forward(layer.forward(X))
    layer.backward(criterion.backward())
    layer.W -= 0.1 * layer.dW
    layer.b -= 0.1 * layer.db
print(loss)
'''

ENTROPY = '''\
import numpy as np


class SoftmaxCrossEntropy:
    """Holds the one-hot labels; forward takes the scores only."""

    def __init__(self, onehot):
        self.onehot = onehot

    def forward(self, scores):
        shifted = scores - scores.max(axis=1, keepdims=True)
        self.probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        return -np.sum(self.onehot * np.log(self.probs)) / len(scores)

    def backward(self):
        return (self.probs - self.onehot) / len(self.probs)


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.dW, self.db = self.x.T @ grad, grad.sum(axis=0)
        return grad @ self.W.T


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad):
        return grad * (1 - self.y ** 2)


rng = np.random.default_rng(1)
X = rng.normal(size=(60, 4))
labels = (X[:, 0] * X[:, 1] > 0).astype(int)
layers = [Dense(4, 8, rng), Tanh(), Dense(8, 2, rng)]
criterion = SoftmaxCrossEntropy(np.eye(2)[labels])
for epoch in range(150):
    out = X
    for layer in layers:
        out = layer.forward(out)
    loss = criterion.forward(out)
    grad = criterion.backward()
    for layer in reversed(layers):
        grad = layer.backward(grad)
    for layer in layers[::2]:
        layer.W -= 0.5 * layer.dW
        layer.b -= 0.5 * layer.db
print(loss)
'''

CASES = [
    (SQUARED, "return 2 * (self.pred - self.target) / self.pred.size", "return (self.pred - self.target) / self.pred.size"),
    (ENTROPY, "return (self.probs - self.onehot) / len(self.probs)", "return (self.probs - self.onehot)"),
]


@pytest.mark.parametrize("text", [SQUARED, ENTROPY], ids=["squared-error", "cross-entropy"])
def test_the_correct_loss_object_is_clean(tmp_path, text):
    path = planted(tmp_path, "train.py", text, "import numpy as np", "import numpy as np")
    assert errors(check(path)) == []


@pytest.mark.parametrize("text, correct, wrong", CASES, ids=["squared-error", "cross-entropy"])
def test_a_wrong_factor_in_it_is_an_error_at_its_line(tmp_path, text, correct, wrong):
    path = planted(tmp_path, "train.py", text, correct, wrong)
    found = errors(check(path))
    assert found and found[0]["line"] == line_of(path, wrong)
