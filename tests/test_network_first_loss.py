"""The network's first loss in its check is the one its own `gradient` computes, when that
can be told: `gradient(x, t)` calls `self.loss(x, t)` with the check's own `x` and `t` and the
same training flag. Otherwise `loss` runs once more, after `gradient`: the same findings."""

from __future__ import annotations

from collections import Counter

import numpy as np

import backprop_doctor as bd

CALLS: Counter = Counter()


class Net:
    """A one-layer softmax regression written the book's way, with a dropout-like flag."""

    def __init__(self, inline=False, flag_in_gradient=True):
        self.params = {"W": np.random.default_rng(0).standard_normal((4, 3)), "b": np.zeros(3)}
        self.inline, self.flag_in_gradient = inline, flag_in_gradient

    def loss(self, x, t, train_flg=False):
        CALLS["loss"] += 1
        return self._forward(x, t)

    def _forward(self, x, t):
        z = x @ self.params["W"] + self.params["b"]
        z = z - z.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def gradient(self, x, t):
        CALLS["gradient"] += 1
        if self.inline:
            self._forward(x, t)
        else:
            self.loss(x, t, train_flg=self.flag_in_gradient)
        d = (self.y - t) / x.shape[0]
        return {"W": x.T @ d, "b": d.sum(axis=0)}


def batch():
    rng = np.random.default_rng(1)
    return rng.standard_normal((6, 4)), np.eye(3)[rng.integers(0, 3, 6)]


def check(net):
    """The report and the calls of the network's methods; `loss` runs once more than the check
    itself calls it, on a copy, to record what each layer is fed (`conventions._feeds`)."""
    CALLS.clear()
    report = bd.check_network(net, *batch())
    return report, dict(CALLS)


def test_the_loss_inside_gradient_is_the_first_loss():
    report, calls = check(Net())
    assert report.ok and report.findings == []
    assert calls == {"gradient": 1, "loss": 1 + 3}  # inside `gradient`, then two forward differences


def test_a_gradient_that_computes_its_forward_inline_gets_the_loss_after_it():
    report, calls = check(Net(inline=True))
    assert report.ok and report.findings == []
    assert calls == {"gradient": 1, "loss": 1 + 3}  # once after `gradient`, then two forward differences


def test_a_loss_called_with_another_training_flag_is_not_taken_for_the_checks():
    report, calls = check(Net(flag_in_gradient=False))  # the check calls loss(x, t, train_flg=True)
    assert report.ok and report.findings == []
    assert calls == {"gradient": 1, "loss": 1 + 4}  # inside `gradient`, once after it, two forward differences
