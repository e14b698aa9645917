"""The budget clock: a check's time budgets count the process's CPU seconds since they were set (a busy
machine does not cut a program short), and wall-clock seconds at a third of their rate (a waiting
program is still stopped)."""

from __future__ import annotations

import time

import numpy as np

from backprop_doctor import gradcheck
from backprop_doctor.observe import budget
from backprop_doctor.observe.budget import WALL_FACTOR, Deadline
from backprop_doctor.training.settings import MIN_STEPS
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


def test_time_left_counts_down_from_the_checks_limit_and_is_endless_without_one():
    try:
        budget.start_check(30.0)
        assert 29.0 < budget.time_left() <= 30.0
        assert budget.share(10.0, 0.25) <= 7.5  # a quarter of what is left, when that is less than the budget
        assert budget.share(5.0, 0.25) == 5.0
        budget.start_check(None)
        assert budget.time_left() == float("inf")
        assert budget.share(10.0, 0.25) == 10.0
        assert not budget.within_share(0.1)()
    finally:
        budget.start_check(None)


def test_past_the_limit_every_share_is_spent_at_once():
    try:
        budget.start_check(1e-9)
        assert budget.time_left() < 0
        assert budget.within_share(0.5)()
        assert budget.share(10.0, 0.5) == 0.1  # the least any phase gets
    finally:
        budget.start_check(None)


def _slow_quadratic(n: int):
    """A loss and its exact gradient, over an array of `n` elements."""
    a = np.linspace(-1.0, 1.0, n)
    return a, (lambda: float(np.sum(a**2))), 2 * a


def test_a_failing_arrays_elements_are_cut_to_the_least_sample_when_time_runs_short():
    a, f, grad = _slow_quadratic(4000)
    wrong = -grad  # every element wrong: the sample is what is compared
    short = gradcheck.elementwise(f, f(), a, wrong, 1e-6, np.random.default_rng(0), enough=lambda: True)
    assert len(short.indices) == gradcheck.MIN_ELEMENTS and not short.full
    assert np.all(short.errors(0.0) > 0.5)
    whole = gradcheck.elementwise(f, f(), a, wrong, 1e-6, np.random.default_rng(0), enough=lambda: False)
    assert len(whole.indices) == gradcheck.SAMPLE_SIZE
    assert np.array_equal(whole.indices[: gradcheck.MIN_ELEMENTS], short.indices)


def test_a_small_array_cut_short_is_no_longer_compared_whole():
    a, f, grad = _slow_quadratic(100)
    cut = gradcheck.elementwise(f, f(), a, grad, 1e-6, np.random.default_rng(0), enough=lambda: True)
    assert len(cut.indices) == gradcheck.MIN_ELEMENTS and not cut.full
    assert gradcheck.elementwise(f, f(), a, grad, 1e-6, np.random.default_rng(0)).full


def test_a_run_stopped_by_the_clock_before_it_could_say_anything_has_no_trend():
    from backprop_doctor.training.run import Run

    rising = Run(label="yours", lr=0.1, batch=10, steps=200, losses=[1.0, 1.5, 2.0], truncated=True)
    assert rising.shape.trend == "unfinished"
    finished = Run(label="yours", lr=0.1, batch=10, steps=3, losses=[1.0, 1.5, 2.0])
    assert finished.shape.trend == "rises"
    long_enough = Run(label="yours", lr=0.1, batch=10, steps=200, losses=list(np.linspace(1.0, 2.0, MIN_STEPS)), truncated=True)
    assert long_enough.shape.trend == "rises"
    blown = Run(label="yours", lr=0.1, batch=10, steps=200, losses=[1.0, 5.0, float("nan")], truncated=True)
    assert blown.shape.trend == "non-finite"


def test_a_check_leaves_no_limit_behind_it(tmp_path):
    """The library's caller goes on after a check (a test process, a notebook): its limit ends with it."""
    from backprop_doctor import pipeline

    path = tmp_path / "empty.py"
    path.write_text("import numpy as np\n", encoding="utf-8")
    pipeline.check_file(str(path), timeout=1e-3)
    assert budget.time_left() == float("inf")


def test_in_the_checks_last_seconds_every_deadline_has_passed_and_no_run_may_wait():
    try:
        budget.start_check(budget.LAST_SECONDS + 5.0)
        fresh = Deadline(10.0)
        assert not fresh.passed()
        assert 0.0 < fresh.wall_seconds() <= 5.0  # the wall clock stops it before the check's last seconds
        budget.start_check(budget.LAST_SECONDS - 1.0)
        assert Deadline(10.0).passed()
        assert Deadline(10.0).wall_seconds() == 0.0
        budget.start_check(None)
        assert 10.0 * WALL_FACTOR - 0.5 < Deadline(10.0).wall_seconds() <= 10.0 * WALL_FACTOR
    finally:
        budget.start_check(None)
