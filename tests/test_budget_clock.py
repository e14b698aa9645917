"""The budget clock: a check's time budgets count the process's CPU seconds (a busy machine does not
cut a program short), and wall-clock seconds at a third of their rate (a waiting program is still
stopped)."""

from __future__ import annotations

import time

from backprop_doctor.observe import budget
from tests.userfiles import check, write


def test_the_budget_clock_follows_this_processs_cpu_time():
    before, cpu = budget.now(), time.process_time()
    total = 0.0
    while time.process_time() - cpu < 0.05:  # work, not waiting
        total += sum(range(1000))
    spent = budget.now() - before
    assert spent >= time.process_time() - cpu - 1e-3
    assert total > 0


def test_the_budget_clock_is_monotonic_and_never_behind_the_cpu_time():
    readings = [budget.now() for _ in range(1000)]
    assert readings == sorted(readings)
    cpu = time.process_time()
    assert budget.now() >= cpu


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
    assert run["seconds"] < 1 * budget.WALL_FACTOR + 2
    assert any(m["layer"] == "Affine" and m["verdict"] == "ok" for m in report["measurements"])
