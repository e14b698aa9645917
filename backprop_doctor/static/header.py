"""A Python module's header, read from its text without importing it.

The rule registry reads each check module this way (`rules.all_rules`): its
literal `NAME`, `CODE`, `SEVERITY` and `STAGE`, its docstring, and whether it
defines a `run`, so that a report knows every rule while only the checks that
run are imported.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Header:
    """What a module's top level says about itself."""

    constants: dict[str, str | None]  # each asked name assigned at the top level: its string literal, or None
    binds: frozenset[str]  # the asked names the top level defines, imports or assigns
    doc: str  # the docstring, cleaned (`inspect.cleandoc`)


def read_header(path: Path, constants: tuple[str, ...], names: tuple[str, ...]) -> Header | None:
    """The `Header` of the module at `path`, or None when its text cannot be read or parsed."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    values: dict[str, str | None] = {}
    binds: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            binds |= {alias.asname or alias.name for alias in node.names} & set(names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    if target.id in names:
                        binds.add(target.id)
                    if target.id in constants:
                        value = node.value
                        values[target.id] = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    return Header(values, frozenset(binds), ast.get_docstring(tree, clean=True) or "")
