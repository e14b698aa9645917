"""Networks kept as lists of column-vector arrays, trained by a method that rebinds each list
with a comprehension: `self.W = [w - (lr / len(batch)) * g for w, g in zip(self.W, grad_W)]`.

The replay moves each array of the list, reads the comprehension's own gradient for it, and,
as such programs compute no loss, judges them against the cost their per-sample backward implies
(quadratic or cross-entropy of the one-input forward method, summed over the batch the loop
passes). The correct twin gets no error; a gradient summed wrongly over the batch is reported.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed

LISTS = """
import random
import numpy as np


def act(z):
    return 1.0 / (1.0 + np.exp(-z))


def act_slope(z):
    s = act(z)
    return s * (1 - s)


class Net:
    def __init__(self, layout):
        self.depth = len(layout)
        self.B = [np.random.randn(n, 1) for n in layout[1:]]
        self.W = [np.random.randn(n, m) / np.sqrt(m) for m, n in zip(layout[:-1], layout[1:])]

    def run(self, a):
        for W, B in zip(self.W, self.B):
            a = act(W @ a + B)
        return a

    def train(self, samples, rounds, batch_size, lr):
        for r in range(rounds):
            random.shuffle(samples)
            for start in range(0, len(samples), batch_size):
                self.learn(samples[start:start + batch_size], lr)

    def learn(self, batch, lr):
        grad_B = [np.zeros_like(B) for B in self.B]
        grad_W = [np.zeros_like(W) for W in self.W]
        for x, y in batch:
            one_B, one_W = self.gradients(x, y)
            grad_B = [g + d for g, d in zip(grad_B, one_B)]
            grad_W = [g + d for g, d in zip(grad_W, one_W)]
        self.W = [w - (lr / len(batch)) * g for w, g in zip(self.W, grad_W)]
        self.B = [b - (lr / len(batch)) * g for b, g in zip(self.B, grad_B)]

    def gradients(self, x, y):
        grad_B = [None] * len(self.B)
        grad_W = [None] * len(self.W)
        outs, pre = [x], []
        for W, B in zip(self.W, self.B):
            pre.append(W @ outs[-1] + B)
            outs.append(act(pre[-1]))
        err = (outs[-1] - y) * act_slope(pre[-1])
        grad_B[-1] = err
        grad_W[-1] = err @ outs[-2].T
        for k in range(2, self.depth):
            err = (self.W[-k + 1].T @ err) * act_slope(pre[-k])
            grad_B[-k] = err
            grad_W[-k] = err @ outs[-k - 1].T
        return grad_B, grad_W


if __name__ == "__main__":
    np.random.seed(4)
    samples = []
    for _ in range(120):
        x = np.random.randn(3, 1)
        y = np.zeros((2, 1))
        y[int(x[0, 0] * x[1, 0] > 0)] = 1.0
        samples.append((x, y))
    Net([3, 6, 2]).train(samples, 20, 8, 2.0)
"""


def test_a_network_of_lists_updated_by_comprehensions_is_replayed_and_gets_no_error(tmp_path: Path) -> None:
    path = planted(tmp_path, "lists.py", LISTS, "self.W = [w", "self.W = [w")
    report = check(path)
    result = replayed(report)
    assert errors(report) == []
    assert {p["name"] for p in result["parameters"]} == {"self.W[0]", "self.W[1]", "self.B[0]", "self.B[1]"}
    assert result["loss"].startswith("Σ ½‖run(x)")


def test_weight_gradients_that_keep_only_the_last_sample_of_the_batch_are_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "lists.py", LISTS, "grad_W = [g + d for g, d in zip(grad_W, one_W)]", "grad_W = [d for g, d in zip(grad_W, one_W)]")
    report = check(path)
    (error,) = errors(report)
    assert error["code"] == "BPD108"
    assert error["line"] == line_of(path, "grad_W = [d for g, d in zip(grad_W, one_W)]")  # where the sum is lost, not the update
    assert "self.W[0]" in error["message"] and "self.B" not in error["message"]
