"""Which package a user's file belongs to, so its relative imports work.

A file with an `__init__.py` beside it (`mypkg/train.py`), or one that uses
relative imports (`from .layers import *`, `from ..utils import x`) even
without `__init__.py` files (a namespace package), runs with `__package__`
set to its package's dotted name and the folder above the top package on
`sys.path`, as `python -m mypkg.train` would run it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from backprop_doctor.static.imports import relative_level

if TYPE_CHECKING:
    import ast


def package_of(path: str, tree: ast.Module | None) -> tuple[str | None, str | None]:
    """(dotted package name, folder to put on sys.path) for the file at `path`, or (None, None)."""
    folder = os.path.dirname(os.path.abspath(path))
    parts: list[str] = []
    here = folder
    while os.path.isfile(os.path.join(here, "__init__.py")) and os.path.dirname(here) != here:
        parts.insert(0, os.path.basename(here))
        here = os.path.dirname(here)
    level = relative_level(tree)
    while len(parts) < level and os.path.dirname(here) != here:  # namespace packages
        parts.insert(0, os.path.basename(here))
        here = os.path.dirname(here)
    if not parts or not all(p.isidentifier() for p in parts):
        return None, None
    return ".".join(parts), here
