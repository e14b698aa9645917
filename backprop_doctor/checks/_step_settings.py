"""Reading a setting's number (`reg`, `keep_prob`, `self.weight_decay`) where a replayed training step ran, and
the replayed steps a training-procedure rule reads (`right_steps`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np


def right_steps(context: Any) -> Iterator[Any]:
    """The replayed training steps whose gradients were measured and are right, of the program's own loop on its
    own data: a wrong gradient has its findings first, and a loop the tool drove, or ran on stand-in data, says
    nothing of the program's own settings, batches or scale."""
    for result in context.extras.get("replay") or []:
        if result.parameters and not (result.wrong or result.driver or result.standin):
            yield result


def setting_value(result: Any, name: str) -> float | None:
    """The setting's number where the step ran: a name of the loop's, else an attribute of an object it holds."""
    namespace = result.after_one_pass()
    if not namespace:
        return None
    value = namespace.get(name)
    if is_number(value):
        return float(value)
    for held in list(namespace.values()):
        candidates = [held, *(held if isinstance(held, (list, tuple)) and len(held) < 50 else ())]
        for candidate in candidates:
            if isinstance(candidate, (np.ndarray, int, float, str, type)) or candidate is None:
                continue
            attribute = getattr(candidate, "__dict__", {}).get(name) if hasattr(candidate, "__dict__") else None
            if is_number(attribute):
                return float(attribute)
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) and math.isfinite(float(value))
