"""The budget clock: a check's time budgets count the process's CPU seconds since they were set (a busy
machine does not cut a program short), and wall-clock seconds at a third of their rate (a waiting
program is still stopped)."""

from __future__ import annotations

import time

from backprop_doctor.observe.budget import WALL_FACTOR, Deadline
from tests.userfiles import check, write


def test_a_deadline_counts_this_processs_cpu_seconds_since_it_was_set():
    deadline = Deadline(0.05)
    cpu = time.process_time()
    total = 0
    while time.process_time() - cpu < 0.06:  # work, not waiting
        total += sum(range(1000))
    assert deadline.passed()
    assert deadline.spent() >= 0.06
    assert not Deadline(10.0).passed()


def test_a_deadline_starts_from_nothing_however_long_the_process_has_lived():
    """A warm worker forked long before the check: its deadline counts from when it was set."""
    assert Deadline(1.0).spent() < 0.05


WAITING = '''\
import time

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


layer = Affine(np.ones((3, 2)))
layer.backward(layer.forward(np.ones((4, 3))))
while True:
    time.sleep(0.05)  # an animation's pause, a prompt: time passes, no CPU is spent
'''


def test_a_program_that_waits_is_still_stopped_after_three_times_its_budget(tmp_path):
    report = check(write(tmp_path, "waits.py", WAITING), "--run-budget", "1")
    run = report["extras"]["observed_run"]
    assert run["stopped"] in ("budget", "enough")
    assert run["seconds"] < 1 * WALL_FACTOR + 2
    assert any(m["layer"] == "Affine" and m["verdict"] == "ok" for m in report["measurements"])
