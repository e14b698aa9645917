"""The clock the time budgets of a check run on: the observed run, the replay's capture of a
training step and its measurements.

A budget of wall-clock seconds cuts a program short on a busy machine (four checks sharing two
cores each get half of one), and the same file then gives another report: a training loop not
reached in time is a training step never checked. A `Deadline` counts this process's CPU seconds
since it was set instead, so a check does what it does whatever else the machine runs; and it
also counts wall-clock seconds at a third of their rate, so a program that waits (`time.sleep`,
a prompt) is still stopped, after three times its budget at most. The parent process's own time
limit bounds the whole check in wall-clock seconds as before.
"""

from __future__ import annotations

import time

WALL_FACTOR = 3.0  # a wall-clock second counts as a third of a budget second


class Deadline:
    """`seconds` of budget from now: CPU seconds of this process, or wall-clock seconds divided
    by `WALL_FACTOR`, whichever pass first."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def spent(self) -> float:
        """Budget seconds spent since the deadline was set."""
        return max(time.process_time() - self._cpu, (time.perf_counter() - self._wall) / WALL_FACTOR)

    def passed(self) -> bool:
        return self.spent() > self.seconds
