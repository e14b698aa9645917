"""The clock the time budgets of a check run on: the observed run, the replay's capture of a
training step and its measurements.

A budget of wall-clock seconds cuts a program short on a busy machine (four checks sharing two
cores each get half of one), and the same file then gives another report: a training loop not
reached in time is a training step never checked. The budget clock counts this process's CPU
seconds instead, so a check does what it does whatever else the machine runs; and it also counts
wall-clock seconds at a third of their rate, so a program that waits (`time.sleep`, a prompt) is
still stopped, after three times its budget at most. The parent process's own time limit bounds
the whole check in wall-clock seconds as before.
"""

from __future__ import annotations

import time

WALL_FACTOR = 3.0  # a wall-clock second counts as a third of a budget second
_STARTED = time.perf_counter()


def now() -> float:
    """Seconds on the budget clock: this process's CPU time, or its wall-clock time since the
    module was loaded divided by `WALL_FACTOR`, whichever is larger. Monotonic."""
    return max(time.process_time(), (time.perf_counter() - _STARTED) / WALL_FACTOR)
