"""Source files by name: their lines and their parsed tree, each file parsed once.

The facts of a check often start from a live function (`inspect` knows its
file) rather than from the checked file itself. `source_tree(file)` serves
both: the pipeline hands over the tree it already parsed (`register`), so the
user's file is never parsed twice; other files (a sibling module the user
imports) are parsed on first use and kept while their text stays the same.
"""

from __future__ import annotations

import ast
import linecache
import os


_TREES: dict[str, tuple[str, ast.Module | None]] = {}


def register(file: str, tree: ast.Module | None, text: str | None = None) -> None:
    """Use `tree` for `file` while `linecache` holds `text`, the text it was parsed from (by default what it holds now)."""
    _TREES[file] = ("".join(linecache.getlines(file)) if text is None else text, tree)


def registered(file: str) -> ast.Module | None:
    """The tree registered for `file` (by the name it was registered under, or its absolute path), if any."""
    cached = _TREES.get(file)
    if cached is None:
        absolute = os.path.abspath(file)
        cached = next((entry for name, entry in _TREES.items() if os.path.abspath(name) == absolute), None)
    return cached[1] if cached is not None else None


def source_tree(file: str) -> tuple[list[str], ast.Module | None]:
    """The lines and the parsed tree of a source file (as `linecache` holds it)."""
    lines = linecache.getlines(file)
    text = "".join(lines)
    cached = _TREES.get(file)
    if cached is None or cached[0] != text:
        try:
            tree: ast.Module | None = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        _TREES[file] = cached = (text, tree)
    return [line.rstrip("\r\n") for line in lines], cached[1]
