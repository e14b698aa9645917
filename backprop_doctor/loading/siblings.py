"""The forward half of a function pair that lives in a file of its own beside the checked file.

The deep-learning course's exercises are often kept one function per file, each file named after
its function: `linear_forward.py` beside `linear_backward.py`, `relu.py` beside
`relu_backward.py`, `linear_activation_forward.py` beside `linear_activation_backward.py`.
The course's networks written as functions are split the same way (`forward.py` beside
`backward.py`, `forward_propagation_with_dropout.py` beside `backward_propagation_with_dropout.py`).
Checked on its own, a backward half has nothing to be compared with. `forward_halves` finds,
for each backward function of the checked file whose forward half is missing, the sibling
file named after that half, and imports it (as `from linear_forward import *` would) only
when that file defines the function: discovery pairs the two as if they shared a file.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree

_BACKWARD = re.compile(r"^(?P<base>.+?)_backward(?P<variant>_\w+)?$")
_STEM = re.compile(r"^[A-Za-z_]\w*$")


def forward_names(backward: str) -> list[str]:
    """The names the forward half of `backward` goes by, most specific first: `linear_forward` for
    `linear_backward`, `relu` for `relu_backward` (an activation returning `(A, cache)`),
    `forward_propagation_with_dropout` for `backward_propagation_with_dropout` and `forward` for
    `backward` (a network written as functions)."""
    names = [backward.replace("backward", "forward", 1)] if "backward" in backward else []
    match = _BACKWARD.match(backward)
    if match is not None:
        base, variant = match["base"], match["variant"] or ""
        names += [f"{base}_forward{variant}", f"{base}_forward", base]
    return list(dict.fromkeys(names))


def forward_halves(functions: dict[str, Callable[..., Any]], path: str) -> dict[str, Callable[..., Any]]:
    """Forward halves, by name, of the backward functions of the file at `path` that `functions`
    (the file's own functions) lacks, each from the sibling file named after it that defines it."""
    folder = os.path.dirname(os.path.abspath(path))
    here = os.path.realpath(path)
    found: dict[str, Callable[..., Any]] = {}
    for backward in sorted(functions):
        names = forward_names(backward)
        if any(name in functions for name in names):
            continue
        for name in names:
            sibling = os.path.join(folder, f"{name}.py")
            if not _STEM.match(name) or not os.path.isfile(sibling) or os.path.realpath(sibling) == here:
                continue
            func = _defined_in(sibling, name)
            if func is not None:
                found[name] = func
                break
    return found


def _defined_in(sibling: str, name: str) -> Callable[..., Any] | None:
    """`name` from the module `sibling` (imported by its stem, from the checked file's folder), when
    the file defines it at its top level; None when it does not, or does not import."""
    tree = source_tree(sibling)[1]
    if tree is None or find_function(tree, name) is None:
        return None
    module = sys.modules.get(name)
    if module is None:
        try:
            module = importlib.import_module(name)
        except (Exception, SystemExit):  # noqa: BLE001 - the user's sibling module: then there is no pair
            return None
    if os.path.realpath(getattr(module, "__file__", None) or "") != os.path.realpath(sibling):
        return None  # the name belongs to another module (an installed package of that name)
    func = getattr(module, name, None)
    return func if callable(func) else None
