"""RMSProp and AdaGrad classes divide each gradient by the root of its running square, so under a
constant gradient every element moves by one multiple of the rate whatever its size; a class that
divides by the square itself moves by lr/|g| and is named at its update line (`adam-step-wrong`)."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = '''\
import numpy as np


class {name}:
    def __init__(self, lr=0.01, decay=0.9, eps=1e-8):
        self.lr, self.decay, self.eps = lr, decay, eps
        self.sq = None

    def update(self, params, grads):
        if self.sq is None:
            self.sq = [np.zeros_like(p) for p in params]
        for i, (p, g) in enumerate(zip(params, grads)):
            {accumulate}
            p -= self.lr * g / (np.sqrt(self.sq[i]) + self.eps)


rng = np.random.default_rng(4)
X = rng.normal(size=(80, 3))
y = X @ np.array([[0.5], [-1.0], [2.0]]) + 0.1
W = np.zeros((3, 1))
b = np.zeros((1, 1))
opt = {name}(lr=0.05)
for step in range(200):
    err = X @ W + b - y
    loss = np.mean(err ** 2)
    dW = 2 * X.T @ err / len(X)
    db = 2 * err.mean(axis=0, keepdims=True)
    opt.update([W, b], [dW, db])
'''

KINDS = {
    "RMSprop": "self.sq[i] = self.decay * self.sq[i] + (1 - self.decay) * g * g",
    "AdaGrad": "self.sq[i] += g * g",
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_correct_adaptive_optimizer_is_clean(tmp_path, name):
    report = check(write(tmp_path, "fit.py", PROGRAM.format(name=name, accumulate=KINDS[name])))
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "adam-step-wrong"]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_step_divided_by_the_square_not_its_root_is_named(tmp_path, name):
    path = planted(
        tmp_path, "fit.py", PROGRAM.format(name=name, accumulate=KINDS[name]),
        "g / (np.sqrt(self.sq[i]) + self.eps)", "g / (self.sq[i] + self.eps)",
    )  # fmt: skip
    (finding,) = [f for f in errors(check(path)) if f["name"] == "adam-step-wrong"]
    assert finding["pattern"] == "inverse-magnitude" and finding["line"] == line_of(path, "p -= self.lr")
    assert f"does not step as {'RMSProp' if name == 'RMSprop' else 'AdaGrad'} does" in finding["message"]
    assert "np.sqrt(cache)" in finding["message"]


# A running square that is set to the last gradient's square alone, not kept: AdaGrad's steps should shrink by
# 1/√t under a constant gradient, RMSProp's as its average (started at 0) fills up; these stay as long as the first.
OVERWRITTEN = {
    "AdaGrad": ("self.sq[i] += g * g", "self.sq[i] = g * g"),
    "RMSprop": ("self.sq[i] = self.decay * self.sq[i] + (1 - self.decay) * g * g", "self.sq[i] = (1 - self.decay) * g ** 2"),
}


@pytest.mark.parametrize("name", sorted(OVERWRITTEN))
def test_a_running_square_that_is_overwritten_is_named_at_its_line(tmp_path, name):
    correct, wrong = OVERWRITTEN[name]
    path = planted(tmp_path, "fit.py", PROGRAM.format(name=name, accumulate=correct), correct, wrong)
    report = check(path)
    (finding,) = [f for f in errors(report) if f["name"] == "adam-step-wrong"]
    assert finding["pattern"] == "not-accumulated" and finding["line"] == line_of(path, wrong)
    assert ("add each square to it (`+=`)" if name == "AdaGrad" else "keep the average") in finding["message"]
    # the optimizer explains a batch the step cannot fit: no second finding blames the data or the set-up
    assert not [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]


def test_an_rmsprop_whose_average_starts_at_the_first_square_is_clean(tmp_path):
    # started at the first gradient's square rather than at 0, RMSProp steps the rate itself at every update under
    # a constant gradient, by design: no warm-up to shrink from
    text = PROGRAM.format(name="RMSprop", accumulate=KINDS["RMSprop"]).replace(
        "self.sq = [np.zeros_like(p) for p in params]", "self.sq = [g * g for g in grads]"
    )
    report = check(write(tmp_path, "fit.py", text))
    assert not [f for f in report["findings"] if f["name"] == "adam-step-wrong"]
    assert errors(report) == []
