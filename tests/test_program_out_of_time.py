"""A program still busy when the time for watching it runs out (`--run-budget`) is stopped, and
the report says so, instead of reading as if nothing were there to check."""

from __future__ import annotations

import re

from tests.userfiles import check, write

SLOW = '''\
import numpy as np


class Affine:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T


table = sum(np.sin(np.arange(10_000_000.0)).sum() for _ in range(1000))  # a long data preparation
layer = Affine(np.ones((3, 2)))
layer.backward(layer.forward(np.ones((4, 3))))
'''


def test_a_program_stopped_by_the_run_budget_is_named(tmp_path):
    report = check(write(tmp_path, "slow.py", SLOW), "--run-budget", "1")
    (finding,) = [f for f in report["findings"] if f["name"] == "program-stopped"]
    assert finding["severity"] == "info"
    assert re.match(r"your program was stopped after \d+ s of watching it \(the --run-budget\)", finding["message"])
    assert report["extras"]["observed_run"]["stopped"] == "budget"


STOPS = '''\
import numpy as np

X = np.load("folds/X_1.npy")  # a data file the program's folder does not hold
W = np.zeros((X.shape[1], 1))
'''


def test_nothing_to_check_after_a_program_that_stopped_says_where_it_stopped(tmp_path):
    report = check(write(tmp_path, "experiment.py", STOPS))
    (nothing,) = [f for f in report["findings"] if f["name"] == "nothing-to-check"]
    assert nothing["message"].startswith("Your program stopped at line 3 before it built anything backprop-doctor could check")
    assert [f["line"] for f in report["findings"] if f["name"] == "program-stopped"] == [3]
