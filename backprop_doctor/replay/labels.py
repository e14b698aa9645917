"""Labels that start at 0 shifted down by one into one-hot targets (`np.eye(K)[y - 1]`).

`static.label_offsets` finds the statements that build one-hot targets from labels minus a whole
number; this module reads the labels the program really holds, in the replayed step's names after one
pass (its batch's labels, or the data set's). Labels that are whole numbers from 0 up, shifted by a
number larger than the smallest of them, give negative indices, which NumPy wraps to the last rows:
class 0 is trained as class K-1, class 1 as class 0... Plain numbers out (`Shifted`);
`checks/labels_shifted.py` words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Shifted:
    line: int  # the statement that builds the targets
    labels: str  # the name read for the labels (the caller's, for a site in a helper function)
    written: str  # `y - 1`
    shift: int
    low: int  # the smallest and largest label the program holds
    high: int
    wrapped: float  # the share of labels the shift makes negative


def shifted_labels(result: Any) -> list[Shifted]:
    """The sites where the labels the replayed step holds start below the shift taken off them."""
    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.label_offsets import callers_arguments, shifted_one_hots

    runner = result.runner
    if runner is None:
        return []
    tree = source_tree(runner.path)[1]
    sites = [s for s in shifted_one_hots(tree) if not s.rebound]
    if not sites:
        return []
    namespace = result.after_one_pass() or {}
    module = getattr(runner, "namespace", None) or {}  # the module's names (a copy of them when the loop is in a function)
    module_level = bool(getattr(runner.capture, "module_level", False))
    found = []
    for site in sites:
        lookup = namespace
        if site.function is None:
            names = [site.labels]
            lookup = namespace if module_level else module  # not a local of the function the loop is in (`def train(X, y)`)
        elif site.function == (result.step.function or "").rpartition(".")[2]:
            names = [site.labels] if site.parameter is None else []
        elif site.parameter is not None:
            names = callers_arguments(tree, site.function, site.parameter)  # `def one_hot(y, K)` called as `one_hot(yb, 10)`
        else:
            names = []
        values = [_labels(lookup.get(n, module.get(n))) for n in names]
        if not names or any(v is None for v in values):
            continue
        labels = np.concatenate([v for v in values if v is not None])
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or low >= site.shift or high < site.shift:
            continue  # labels that start at the shift (1 to K) are what the shift is for; all below it is no labelling
        wrapped = float(np.mean(labels < site.shift))
        found.append(Shifted(site.line, " / ".join(dict.fromkeys(names)), site.written, site.shift, low, high, wrapped))
    return found


def _labels(value: Any) -> np.ndarray | None:
    """The whole-number labels `value` holds, flattened; None when it holds something else."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray) or value.size < 2 or value.dtype.kind not in "iuf":
        return None
    flat = value.ravel()
    if value.dtype.kind == "f" and not (np.all(np.isfinite(flat)) and np.all(flat == np.round(flat))):
        return None
    return flat.astype(np.int64)
