"""A bias the forward fetches and never adds (`a1 = np.dot(x, W1)` with `b1` bound beside `W1`):
the loss does not depend on it, so its numerical gradient is zero while the backward computes one.
The finding names the statement where the term belongs and gives it back, rather than advising to
compute with "this very array, not a copy"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = """\
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            'W1': weight_init_std * np.random.randn(input_size, hidden_size),
            'b1': np.zeros(hidden_size),
            'W2': weight_init_std * np.random.randn(hidden_size, output_size),
            'b2': np.zeros(output_size),
        }

    def predict(self, x):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        return softmax(a2)

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + b2)
        dy = (y - t) / batch_num
        grads = {'W2': np.dot(z1.T, dy), 'b2': np.sum(dy, axis=0)}
        dz1 = np.dot(dy, W2.T) * z1 * (1 - z1)
        grads['W1'] = np.dot(x.T, dz1)
        grads['b1'] = np.sum(dz1, axis=0)
        return grads
"""

AFFINE = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)
"""


def test_the_correct_network_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "two_layer_net.py", NETWORK))) == []


def test_a_bias_left_out_of_predict_is_found_where_it_belongs(tmp_path):
    path = planted(tmp_path, "two_layer_net.py", NETWORK, "        a1 = np.dot(x, W1) + b1\n        z1 = sigmoid(a1)\n        a2", "        a1 = np.dot(x, W1)\n        z1 = sigmoid(a1)\n        a2")
    (found,) = errors(check(path))
    # predict comes first in the file, so this is its line, not the gradient's `a1 = np.dot(x, W1) + b1`
    assert (found["pattern"], found["param"], found["line"]) == ("term-left-out", "b1", line_of(path, "a1 = np.dot(x, W1)"))
    assert found["fix"] == "a1 = np.dot(x, W1) + b1"
    assert "`TwoLayerNet.b1` is never used by `TwoLayerNet.predict`" in found["message"]


def test_a_layer_whose_forward_leaves_out_its_bias_is_found_at_its_forward(tmp_path):
    path = planted(tmp_path, "layers.py", AFFINE, "return np.dot(x, self.W) + self.b", "return np.dot(x, self.W)")
    (found,) = errors(check(path))
    assert (found["pattern"], found["param"], found["line"]) == ("term-left-out", "b", line_of(path, "return np.dot(x, self.W)"))
    assert found["fix"] is None  # a return statement: no assignment to complete


def test_the_correct_layer_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "layers.py", AFFINE))) == []
