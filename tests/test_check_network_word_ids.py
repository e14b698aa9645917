"""`check_network` keeps integer inputs: word ids stay ids, never a float copy.

A model whose embedding looks rows up with `np.take(W, idx, axis=0)` and scatters its
gradient with `np.add.at(dW, idx, dout)` cannot run on float ids. Checked through the
library API on ids and labels, it is checked, not reported as raising.
"""

from __future__ import annotations

import importlib.util

import numpy as np

import backprop_doctor

MODEL = '''\
import numpy as np


class Embedding:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.idx = None

    def forward(self, idx):
        W, = self.params
        self.idx = idx
        return np.take(W, idx, axis=0)

    def backward(self, dout):
        dW, = self.grads
        dW[...] = 0
        np.add.at(dW, self.idx, dout)
        return None


class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ self.params[0].T


class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        return -np.mean(np.log(self.y[np.arange(len(t)), t] + 1e-7))

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx * dout / len(self.t)


class WordClassifier:
    def __init__(self, vocab_size, wordvec_size, classes):
        rn = np.random.randn
        self.layers = [Embedding(0.1 * rn(vocab_size, wordvec_size)), Affine(0.1 * rn(wordvec_size, classes), np.zeros(classes))]
        self.loss_layer = SoftmaxWithLoss()
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, ids, labels):
        x = ids
        for layer in self.layers:
            x = layer.forward(x)
        return self.loss_layer.forward(x, labels)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
'''


def load(tmp_path, text):
    path = tmp_path / "word_classifier.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("word_classifier", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_network_keeps_word_ids_integer(tmp_path):
    module = load(tmp_path, MODEL)
    np.random.seed(0)
    net = module.WordClassifier(10, 4, 3)
    ids = np.array([1, 3, 3, 7, 0, 9])
    labels = np.array([0, 2, 1, 1, 0, 2])
    before = [p.copy() for p in net.params]
    report = backprop_doctor.check_network(net, ids, labels)
    assert report.errors == [], [f.message for f in report.findings]
    compared = {(m.layer, m.param) for m in report.measurements if m.verdict == "ok"}
    assert ("WordClassifier", "layers[0].W") in compared, report.measurements
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params))
    assert ids.dtype.kind == "i" and ids.tolist() == [1, 3, 3, 7, 0, 9]


def test_a_scatter_that_drops_repeated_ids_is_found_on_integer_ids(tmp_path):
    right = "        np.add.at(dW, self.idx, dout)"
    assert right in MODEL
    module = load(tmp_path, MODEL.replace(right, "        dW[self.idx] = dout  # BUG: a repeated id keeps one gradient"))
    np.random.seed(0)
    net = module.WordClassifier(10, 4, 3)
    report = backprop_doctor.check_network(net, np.array([1, 3, 3, 7, 0, 9]), np.array([0, 2, 1, 1, 0, 2]))
    assert [f.code for f in report.errors if f.code == "BPD101"], [f.message for f in report.findings]
