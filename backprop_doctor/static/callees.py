"""Which of a file's functions call which: to tell a wrong helper from the functions built on it.

`rnn_backward` calls `rnn_step_backward`; when both pairs' gradients are wrong, the step is
the cause and the sequence its symptom. Only direct calls by plain name between the file's own
top-level functions count (`rnn_step_backward(...)`, not `self.step(...)`).
"""

from __future__ import annotations

import ast

from backprop_doctor.static.tree import walk


def function_calls(tree: ast.Module) -> list[tuple[int, int, str, frozenset[str]]]:
    """(first line, last line, name, names it calls) of each top-level function of `tree`."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            called = frozenset(n.func.id for n in walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name))
            found.append((node.lineno, node.end_lineno or node.lineno, node.name, called))
    return found


def enclosing(functions: list[tuple[int, int, str, frozenset[str]]], line: int) -> tuple[str, frozenset[str]] | None:
    """The name of the top-level function holding `line`, and what it calls."""
    for first, last, name, called in functions:
        if first <= line <= last:
            return name, called
    return None
