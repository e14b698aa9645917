"""The clock the time budgets of a check run on: the observed run, the replay's capture of a
training step and its measurements.

A budget of wall-clock seconds cuts a program short on a busy machine (four checks sharing two
cores each get half of one), and the same file then gives another report: a training loop not
reached in time is a training step never checked. A `Deadline` counts this process's CPU seconds
since it was set instead, so a check does what it does whatever else the machine runs; and it
also counts wall-clock seconds at a third of their rate, so a program that waits (`time.sleep`,
a prompt) is still stopped, after three times its budget at most. The parent process's own time
limit bounds the whole check in wall-clock seconds as before.

`time_left` is that limit seen from inside the check: the seconds of `--timeout` still to go. The
phases that run the user's code for as long as their budget lets them (the observed run, the
replay, the training probe's runs) take no more than a share of it, so that a slow program (a
step that computes its gradient numerically, a convolution network in pure NumPy) ends its check
with a report of what was done in time rather than being stopped with none.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

WALL_FACTOR = 3.0  # a wall-clock second counts as a third of a budget second


LAST_SECONDS = 20.0  # of the check's time limit, what no run of the user's program may take: the checks and the report


class Deadline:
    """`seconds` of budget from now: CPU seconds of this process, or wall-clock seconds divided
    by `WALL_FACTOR`, whichever pass first; and passed, whatever is left of it, in the check's last
    `LAST_SECONDS` (on a machine so busy that a wall-clock second is a third of a CPU second or
    less, the budgets of two runs of the program would otherwise take the check's whole time)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def spent(self) -> float:
        """Budget seconds spent since the deadline was set."""
        return max(time.process_time() - self._cpu, (time.perf_counter() - self._wall) / WALL_FACTOR)

    def passed(self) -> bool:
        return self.spent() > self.seconds or time_left() < LAST_SECONDS

    def wall_seconds(self) -> float:
        """The most wall-clock seconds from now before it has passed."""
        return max(0.0, min(self.seconds * WALL_FACTOR - (time.perf_counter() - self._wall), time_left() - LAST_SECONDS))


_check_ends: list[float] = []  # perf_counter() at which this process's check must be done


def start_check(timeout: float | None) -> None:
    """The check starting now must be done within `timeout` wall-clock seconds (none: no limit)."""
    _check_ends[:] = [time.perf_counter() + timeout] if timeout is not None and 0 < timeout < float("inf") else []


@contextlib.contextmanager
def check_limit(timeout: float | None) -> Iterator[None]:
    """`start_check(timeout)` for the length of one check; no limit after it (the library's callers,
    a test process, go on checking other things)."""
    start_check(timeout)
    try:
        yield
    finally:
        start_check(None)


def time_left() -> float:
    """Wall-clock seconds until the current check's time limit (infinite when it has none)."""
    return _check_ends[0] - time.perf_counter() if _check_ends else float("inf")


def share(budget: float, part: float, *, reserve: float = 0.0, least: float = 0.1) -> float:
    """`budget`, or `part` of the time left beyond `reserve` seconds when that is less; `least`
    seconds at the least."""
    return max(least, min(budget, part * (time_left() - reserve)))


def within_share(part: float) -> Callable[[], bool]:
    """A test that turns true once `part` of the time left now has been spent (never, with no limit)."""
    left = time_left()
    if left == float("inf"):
        return lambda: False
    ends = time.perf_counter() + max(0.0, part * left)
    return lambda: time.perf_counter() > ends
