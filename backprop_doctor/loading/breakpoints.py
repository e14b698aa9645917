"""Breakpoints left in the user's code are passed over (child process only).

`pdb.set_trace()` (or `breakpoint()`) left after debugging stops a program at a prompt that
reads standard input; the sandbox refuses that read, and the program stopped there, before
anything it trains was built. Run with no one at the keyboard, a breakpoint does nothing, as
with `PYTHONBREAKPOINT=0`.
"""

from __future__ import annotations

import sys
from typing import Any


def _pass(*_: Any, **__: Any) -> None:
    return None


def install() -> None:
    import pdb

    pdb.set_trace = _pass  # type: ignore[assignment]
    sys.breakpointhook = _pass
