"""`sys.argv` of the user's program: the file alone, and a stand-in for an argument it reads that
no command line gave (child process only).

A program that takes its data file from the command line (`data = open(sys.argv[1]).read()`, a
character-level RNN's corpus) stops with IndexError when backprop-doctor runs it, before anything
it trains is built. `Arguments` answers a read past its end with the name of a text file that is not
there, `bpd-argument-1.txt`: the user's `open` of it reads synthetic English text
(`datasets.missing_file`, reported as `synthetic-data` at the line that read the argument). A
program that checks `len(sys.argv)` first sees the file alone and takes its own default; one that
makes a number of the argument stops on the name, as it stopped on the IndexError.
"""

from __future__ import annotations

import os
import sys
from typing import Any

PREFIX = "bpd-argument-"
# the stand-in's file name -> (the argument's index, the user's file and line that read it)
GIVEN: dict[str, tuple[int, str | None, int | None]] = {}


class Arguments(list):  # type: ignore[type-arg]
    """A list of the program's path; an index past its end reads a stand-in file name."""

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and not isinstance(index, bool) and index >= len(self) and len(self) > 0:
            name = f"{PREFIX}{index}.txt"
            if name not in GIVEN:
                from backprop_doctor.loading.datasets import _caller

                GIVEN[name] = (index, *_caller())  # the user's line that read it
            return name
        return super().__getitem__(index)


def given(path: object) -> tuple[int, str | None, int | None] | None:
    """The argument `path` stands in for (its index, where the program read it), or None."""
    if not isinstance(path, (str, os.PathLike)):
        return None
    return GIVEN.get(os.path.basename(os.fspath(path)))


def install(path: str) -> None:
    """The program's `sys.argv`: its own path alone, with stand-ins past it."""
    sys.argv = Arguments([os.path.abspath(path)])
