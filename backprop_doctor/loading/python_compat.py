"""Standard-library names newer Pythons removed, put back while a user's program runs (child process
only), and where the file reads them.

Python 3.8 removed `time.clock`; notebooks of 2017 time their layers with it (`from time import
clock`), and the program stops at that import before it defines anything. `install` gives the
module each name in `REMOVED` again, as its modern spelling, so the program runs and is checked;
`findings` reports each name the file reads, with its lines and what to write instead
(`checks/python_removed.py`).
"""

from __future__ import annotations

import ast
import importlib
import re
import sys

from backprop_doctor.findings import Finding

# (module, name) -> (the modern spelling, the Python version that removed the name)
REMOVED: dict[tuple[str, str], tuple[str, str]] = {
    ("time", "clock"): ("time.perf_counter", "3.8"),
}
INSTALLED: set[tuple[str, str]] = set()  # the names `install` put back in this process


def install() -> None:
    """Give each module of `REMOVED` that lacks its name the modern spelling under the old name."""
    for (module, name), (new, _) in REMOVED.items():
        owner = importlib.import_module(module)
        if hasattr(owner, name) and (module, name) not in INSTALLED:
            continue
        home, attribute = new.rsplit(".", 1)
        setattr(owner, name, getattr(importlib.import_module(home), attribute))
        INSTALLED.add((module, name))


def uses(tree: ast.AST) -> dict[tuple[str, str], list[tuple[int, str, str]]]:
    """The removed names a module reads: (module, name) -> [(line, how, the file's name)], sorted by line.
    `how` is "from" for `from time import clock [as c]` (the file's name: `clock` or `c`; the import is
    where the program stops) and "attribute" for `time.clock` after `import time [as t]` (`time`, `t`)."""
    modules = {module for module, _ in REMOVED}
    aliases: dict[str, str] = {}  # the file's name for a module -> the module
    found: dict[tuple[str, str], set[tuple[int, str, str]]] = {}
    attributes = {name for _, name in REMOVED}
    attribute_reads: list[ast.Attribute] = []  # `name.attr` for a removed attr, in the order of the walk
    for node in ast.walk(tree):  # one walk: the aliases are known once it ends
        if isinstance(node, ast.Import):
            aliases.update({a.asname or a.name: a.name for a in node.names if a.name in modules})
        elif isinstance(node, ast.ImportFrom) and node.module in modules and not node.level:
            for alias in node.names:
                if (node.module, alias.name) in REMOVED:
                    found.setdefault((node.module, alias.name), set()).add((node.lineno, "from", alias.asname or alias.name))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in attributes:
            attribute_reads.append(node)
    for node in attribute_reads:
        if (aliases.get(node.value.id), node.attr) in REMOVED:  # type: ignore[attr-defined]
            found.setdefault((aliases[node.value.id], node.attr), set()).add((node.lineno, "attribute", node.value.id))
    return {key: sorted(reads) for key, reads in found.items()}


def findings(path: str, tree: ast.AST | None, text: str) -> list[Finding]:
    """One `python-removed` finding per removed name the file reads, when `install` has put it back;
    its fix is the first line that reads it, in the modern spelling."""
    if tree is None or not INSTALLED:
        return []
    from backprop_doctor.rules import rule

    lines = text.split("\n")
    version = ".".join(map(str, sys.version_info[:2]))
    out = []
    for (module, name), reads in sorted(uses(tree).items(), key=lambda item: item[1][0]):
        if (module, name) not in INSTALLED:
            continue
        new, removed_in = REMOVED[(module, name)]
        at = sorted({line for line, _, _ in reads})
        first, how, local = reads[0]
        out.append(
            rule("python-removed").finding(
                f"`{module}.{name}` (line{'s' if len(at) > 1 else ''} {', '.join(map(str, at))}) was removed in Python "
                f"{removed_in}, and this is Python {version}, so your program stops there: write `{new}` instead "
                f"(backprop-doctor gave `{module}.{name}` back as `{new}` to run your program)",
                file=path,
                line=first,
                highlight=tuple(at),
                fix=_rewritten(lines[first - 1], name, new.rsplit(".", 1)[1], how, local) if first <= len(lines) else None,
            )
        )
    return out


def _rewritten(line: str, name: str, new: str, how: str, local: str) -> str | None:
    """`line` with the removed name in its modern spelling: `from time import time, perf_counter as
    clock` (the rest of the file keeps its name), `time.perf_counter()`; None when the line does not
    show the name plainly."""
    if how == "from":
        pattern, replacement = rf"\b{name}\b(\s+as\s+{re.escape(local)}\b)?", f"{new} as {local}"
    else:
        pattern, replacement = rf"\b{re.escape(local)}\s*\.\s*{name}\b", f"{local}.{new}"
    fixed, count = re.subn(pattern, replacement, line, count=1)
    return fixed if count else None
