"""A backward that applies an optimizer's step itself (momentum, Adam) computes with other weights
when it is called again: that is its design, not gradients accumulated by mistake. It gets an
info saying why its gradients were not compared twice; a backward that accumulates with `+=`
is still an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYER = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, learning_rate=0.01, momentum=0.9):
        self.weights = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.1
        self.velocity = np.zeros_like(self.weights)
        self.learning_rate, self.momentum = learning_rate, momentum

    def forward(self, x):
        self.x = x
        return x @ self.weights

    def backward(self, grad_output):
        grad_input = grad_output @ self.weights.T
        grad_weights = self.x.T @ grad_output
        self.velocity = self.momentum * self.velocity - self.learning_rate * grad_weights
        self.weights += self.velocity
        return grad_input
'''


def test_a_backward_that_steps_an_optimizer_is_an_info_not_an_error(tmp_path):
    path = write(tmp_path, "dense.py", LAYER)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "nonreentrant-backward"]
    assert (finding["severity"], finding["line"]) == ("info", line_of(path, "self.weights += self.velocity"))


def test_gradients_accumulated_by_mistake_are_still_an_error(tmp_path):
    text = LAYER.replace(
        "        self.velocity = self.momentum * self.velocity - self.learning_rate * grad_weights\n        self.weights += self.velocity\n",
        "        self.dweights += grad_weights\n",
    ).replace("        self.learning_rate, self.momentum = learning_rate, momentum\n", "        self.dweights = np.zeros_like(self.weights)\n")
    (finding,) = [f for f in errors(check(write(tmp_path, "dense.py", text))) if f["name"] == "nonreentrant-backward"]
    assert finding["severity"] == "error"
