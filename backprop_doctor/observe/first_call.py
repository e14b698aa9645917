"""The arguments of the first call a program makes of one function, the program stopped there.

A loss-and-gradient function whose weights have no shapes to make up (`[W1, W2, b1, b2] = params`)
is checked on what its file's own training function first hands it (`conventions.
loss_gradient_functions`). That training function is user code: it runs here, as the observed run
runs the program (`observe.run`), with NumPy's global random state seeded and put back, its prints
kept from the report, and a trace function that sees calls only, so the code it runs meanwhile is
not slowed by line events. It stops at the first call of the function, at the budget (checked
at each Python call), or when the training function raises first.
"""

from __future__ import annotations

import contextlib
import copy
import io
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backprop_doctor.conventions._base import FORWARD_SEED
from backprop_doctor.observe.budget import Deadline


class _Reached(BaseException):
    """Stops the driver at the first call of the function (or at its deadline)."""


def first_call(driver: Callable[[], Any], func: Any, names: Sequence[str], seconds: float, stopped: list[str]) -> tuple[list[Any], int] | None:
    """(copies of the arguments named `names`, the caller's line) of the first call of `func` that
    `driver()` makes; None when the driver raises first (what it raised is added to `stopped`), never
    calls it, does not pass every one of `names`, or runs past `seconds` of budget."""
    code, deadline = func.__code__, Deadline(seconds)
    found: list[tuple[list[Any], int]] = []

    def tracer(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            if frame.f_code is code:
                found.append(([copy.deepcopy(frame.f_locals[n]) for n in names if n in frame.f_locals], frame.f_back.f_lineno if frame.f_back else 0))
                raise _Reached
            if deadline.passed():
                raise _Reached
        return None

    state, before = np.random.get_state(), sys.gettrace()
    np.random.seed(FORWARD_SEED)
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            sys.settrace(tracer)
            try:
                driver()
            finally:
                sys.settrace(before)
    except _Reached:
        pass
    except Exception as error:  # noqa: BLE001 - user code: stopped before the call
        stopped.append(f"`{getattr(driver, '__name__', 'the training function')}()` raised {type(error).__name__} before it called it")
    finally:
        np.random.set_state(state)
    return found[0] if found and len(found[0][0]) == len(names) else None
