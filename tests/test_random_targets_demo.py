"""A network file whose main block only tries its gradient on random numbers, as the book's chapter 4
and 5 files do (`t = np.random.rand(100, 10)`): such targets are no class probabilities, and a
softmax cross-entropy's gradient `(y - t) / N` holds only for targets whose rows sum to 1. The
observed batch keeps its inputs; its targets are made one-hot, and the report says so."""

from __future__ import annotations

import json

from tests.userfiles import check, errors, write

NET = '''\
import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, n_out):
        rng = np.random.default_rng(0)
        self.W1, self.b1 = rng.normal(size=(n_in, n_hidden)) * 0.1, np.zeros(n_hidden)
        self.W2, self.b2 = rng.normal(size=(n_hidden, n_out)) * 0.1, np.zeros(n_out)

    def probabilities(self, x):
        self.h = np.maximum(0, x @ self.W1 + self.b1)
        s = self.h @ self.W2 + self.b2
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x, t):
        y = self.probabilities(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        y = self.probabilities(x)
        dy = (y - t) / x.shape[0]
        dh = dy @ self.W2.T * (self.h > 0)
        return {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": self.h.T @ dy, "b2": dy.sum(axis=0)}


if __name__ == "__main__":
    net = Net(20, 16, 10)
    x = np.random.rand(100, 20)
    t = np.random.rand(100, 10)
    grads = net.gradient(x, t)
    print({k: v.shape for k, v in grads.items()})
'''


def test_random_demo_targets_are_made_one_hot_and_the_correct_network_has_no_error(tmp_path):
    report = check(write(tmp_path, "net.py", NET))
    assert errors(report) == []
    assert "its random targets made one-hot" in json.dumps(report["built"])


def test_a_wrong_gradient_is_still_found_on_the_one_hot_targets(tmp_path):
    report = check(write(tmp_path, "net.py", NET.replace("dy = (y - t) / x.shape[0]", "dy = (y - t)")))
    assert {f["code"] for f in errors(report)} == {"BPD101"}
