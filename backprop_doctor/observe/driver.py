"""Does a file have driver code: a script that builds objects and trains, worth running?"""

from __future__ import annotations

import ast

from backprop_doctor.loading.definitions import definitions_only, is_main_guard
from backprop_doctor.static.tree import walk  # skips the elements of data literals


def has_driver(tree: ast.Module | None) -> bool:
    """True when the file has a non-empty `if __name__ == "__main__":` block, or module-level
    statements beyond its definitions that call something (building, loading, training)."""
    if tree is None:
        return False
    for node in tree.body:
        if isinstance(node, ast.If) and is_main_guard(node.test) and any(_calls(s) for s in node.body):
            return True
    kept = {id(n) for n in definitions_only(tree).body}
    for node in tree.body:
        if id(node) in kept or (isinstance(node, ast.If) and is_main_guard(node.test)):
            continue
        if _calls(node):
            return True
    return False


def _calls(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return False
    return any(isinstance(sub, ast.Call) for sub in walk(node))
