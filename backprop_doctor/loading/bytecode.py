"""Our own bytecode, compiled once, so a check does not recompile the tool every time.

Every check runs in a fresh child with `PYTHONDONTWRITEBYTECODE=1`: nothing the user's
program imports may leave a `__pycache__` in their folder. The flag also stops Python from
caching the tool's own modules, and where no `.pyc` was made at install time (an editable
install, or a shell that sets the flag) each child compiled about 150 modules from source:
0.6 s of a 3-second check. The parent compiles the package's modules into the package's own
`__pycache__` folders before it starts the first child. It writes nothing anywhere else, skips
modules whose bytecode is current, and gives up without a word where the install is read-only.
"""

from __future__ import annotations

import compileall
import os
import threading

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DONE = threading.Event()
_LOCK = threading.Lock()


def compile_package(folder: str = _PACKAGE) -> bool:
    """Compile the tool's modules under `folder` once per process; True when every one compiled."""
    if _DONE.is_set():
        return True
    with _LOCK:
        if _DONE.is_set():
            return True
        try:
            ok = bool(compileall.compile_dir(folder, quiet=2, workers=1))
        except (OSError, ValueError, RecursionError):  # a read-only or half-removed install
            ok = False
        _DONE.set()
        return ok
