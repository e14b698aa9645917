"""The tiny-batch probe judges the data loss: a network's own weight decay is turned off for it.

The book's `overfit_weight_decay.py` builds `MultiLayerNet(..., weight_decay_lambda=0.1)`. Its
loss holds `0.5 * lambda * sum(W ** 2)`, which five samples cannot drive to a fifth of where it
started however well they are fitted, so correct code got a "cannot fit 5 samples" warning. The
copy trained on the tiny batch now has its decay strength set to 0; the user's network is not
touched, and a network that really cannot fit is still reported.
"""

from __future__ import annotations

from types import SimpleNamespace

from backprop_doctor.training.run import _without_decay
from tests.userfiles import check, planted, write

NETWORK = '''\
import numpy as np


class DecayedNet:
    def __init__(self, input_size=6, hidden_size=400, output_size=3, weight_decay_lambda=0.1):
        rng = np.random.default_rng(0)
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {
            "W1": rng.standard_normal((input_size, hidden_size)) * np.sqrt(2.0 / input_size),
            "b1": np.zeros(hidden_size),
            "W2": rng.standard_normal((hidden_size, output_size)) * np.sqrt(2.0 / hidden_size),
            "b2": np.zeros(output_size),
        }

    def _forward(self, x):
        h = np.maximum(0, x @ self.params["W1"] + self.params["b1"])
        s = h @ self.params["W2"] + self.params["b2"]
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        return h, p

    def loss(self, x, t):
        _, p = self._forward(x)
        data = -np.sum(t * np.log(p + 1e-7)) / x.shape[0]
        decay = sum(0.5 * self.weight_decay_lambda * np.sum(self.params[k] ** 2) for k in ("W1", "W2"))
        return data + decay

    def gradient(self, x, t):
        h, p = self._forward(x)
        d = (p - t) / x.shape[0]
        grads = {"W2": h.T @ d + self.weight_decay_lambda * self.params["W2"], "b2": d.sum(axis=0)}
        dh = d @ self.params["W2"].T * (h > 0)
        grads["W1"] = x.T @ dh + self.weight_decay_lambda * self.params["W1"]
        grads["b1"] = dh.sum(axis=0)
        return grads


network = DecayedNet(weight_decay_lambda=0.1)
learning_rate = 0.01
'''


def _codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


def test_a_correct_network_with_strong_weight_decay_is_not_said_to_fail_the_tiny_batch(tmp_path):
    report = check(write(tmp_path, "net.py", NETWORK), training=True)
    assert "BPD607" not in _codes(report)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_a_network_that_cannot_learn_is_still_reported_with_decay_off(tmp_path):
    """Decay off does not make everything fit: a backward that never moves W1 and W2 right is still
    caught (here the hidden gradient is always zero, so only the biases learn)."""
    path = planted(tmp_path, "net.py", NETWORK, "dh = d @ self.params[\"W2\"].T * (h > 0)", "dh = d @ self.params[\"W2\"].T * 0")
    assert "BPD101" in _codes(check(path, training=True))


def test_only_the_copys_decay_strengths_are_set_to_zero():
    net = SimpleNamespace(weight_decay_lambda=0.1, reg=0.5, lambd=2, lr=0.1, use_decay=True, layers=[SimpleNamespace(reg=0.3)])
    _without_decay(net)
    assert (net.weight_decay_lambda, net.reg, net.lambd) == (0.0, 0.0, 0)
    assert (net.lr, net.use_decay, net.layers[0].reg) == (0.1, True, 0.3)
