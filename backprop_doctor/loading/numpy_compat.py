"""Old NumPy names put back while a user's program runs (child process only), and where the file reads them.

NumPy 1.24 removed `np.float`, `np.int`, `np.bool`, ...; NumPy 2.0 removed `np.asfarray`,
`np.NaN`, `np.product`, ... (`namespace.NUMPY_REMOVED` lists them with their modern
spelling). Old tutorial code stops at the first of them. `install` gives the numpy module
those names again, with their old meaning, so the program runs and is checked;
`findings` reports each name the file reads, with its lines and the modern spelling
(`checks/numpy_removed.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.findings import Finding

INSTALLED: set[str] = set()  # the names `install` put back in this process


def _asfarray(a: Any, dtype: Any = np.float64) -> np.ndarray:
    """NumPy 1's `asfarray`: an array of `a`, converted to a float type (float64 unless `dtype` is one)."""
    dtype = np.dtype(dtype)
    return np.asarray(a, dtype=dtype if np.issubdtype(dtype, np.inexact) else np.float64)


_FUNCTIONS: dict[str, Callable[..., Any]] = {"asfarray": _asfarray}  # the rest are their modern spelling


def removed() -> dict[str, str]:
    """Every removed name this NumPy lacks -> its modern spelling."""
    from backprop_doctor.loading.namespace import NUMPY_REMOVED

    return {name: new for name, new in NUMPY_REMOVED.items() if name not in np.__dict__ or name in INSTALLED}


def install() -> None:
    """Give the numpy module its removed names again, with their old meaning."""
    for name, new in removed().items():
        if name in INSTALLED:
            continue
        value = _FUNCTIONS[name] if name in _FUNCTIONS else eval(new, {"np": np})  # noqa: S307 - our own table
        setattr(np, name, value)
        INSTALLED.add(name)


def uses(tree: ast.AST) -> dict[str, tuple[str, list[int]]]:
    """The removed names a module reads through its numpy import (`np.float`): name -> (the
    module's name for numpy as first written, the lines)."""
    aliases = {"numpy"}
    gone = removed()
    reads: list[ast.Attribute] = []  # `name.attr` for a removed attr, in the order of the walk
    for node in ast.walk(tree):  # one walk: the aliases are known once it ends
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "numpy"}
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in gone:
            reads.append(node)
    found: dict[str, tuple[str, list[int]]] = {}
    for node in reads:
        if node.value.id in aliases:  # type: ignore[attr-defined]
            _, lines = found.setdefault(node.attr, (node.value.id, []))  # type: ignore[attr-defined]
            if node.lineno not in lines:
                lines.append(node.lineno)
    return {name: (alias, sorted(lines)) for name, (alias, lines) in found.items()}


def findings(path: str, tree: ast.AST | None) -> list[Finding]:
    """One `numpy-removed` finding per removed name the file reads, when `install` has put them back."""
    if tree is None or not INSTALLED:
        return []
    from backprop_doctor.rules import rule

    gone = removed()
    out = []
    for name, (alias, lines) in sorted(uses(tree).items(), key=lambda item: item[1][1][0]):
        at = ", ".join(map(str, lines))
        modern = gone[name].replace("np.", f"{alias}.")
        out.append(
            rule("numpy-removed").finding(
                f"`{alias}.{name}` (line{'s' if len(lines) > 1 else ''} {at}) is gone from NumPy {np.__version__}, installed here, "
                f"so your program stops there: write `{modern}` instead (backprop-doctor gave it its old meaning to run your program)",
                file=path,
                line=lines[0],
                highlight=tuple(lines),
            )
        )
    return out
