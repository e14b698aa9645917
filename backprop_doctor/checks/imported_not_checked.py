"""Layers imported from another file that this file does not use are not checked here.

What it finds:
    Classes brought in with `from common.layers import *` (or another import
    from a file beside this one) that look like layers or networks but are
    never used in this file. One line lists them all.

Why it matters:
    Checking every class of a shared module each time any file imports it is
    slow and blames this file for code it does not run; the module can be
    checked on its own.

Example:
    from common.layers import *      # Convolution, Pooling, ... unused here

    class TwoLayerNet: ...           # uses Affine, Relu, SoftmaxWithLoss

Fix:
    Nothing to fix. To check the imported classes, run backprop-doctor on the
    file that defines them: `backprop-doctor common/layers.py`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from typing import Any

from backprop_doctor import rules
from backprop_doctor.findings import Finding

NAME = "imported-not-checked"
CODE = "BPD015"
SEVERITY = "info"
STAGE = "load"


def run(context: Any) -> Iterator[Finding]:
    found = context.extras.get("discovered")
    if found is None or not found.imported or context.source is None:
        return
    namespace = context.namespace or {}
    files: list[str] = []
    for name in found.imported:
        try:
            file = inspect.getsourcefile(namespace[name])
        except (KeyError, TypeError, OSError):
            continue
        if file:
            relative = os.path.relpath(file, os.path.dirname(os.path.abspath(context.source.path)) or ".")
            if relative not in files:
                files.append(relative)
    where = " and ".join(f"backprop-doctor {f}" for f in files) or "backprop-doctor on the file that defines them"
    context.extras["imported_not_checked"] = list(found.imported)
    yield rules.rule(NAME).finding(
        f"imported, not checked: {', '.join(found.imported)} — run {where}",
        file=context.source.path,
    )
