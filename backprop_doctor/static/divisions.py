"""Divisions by a count: `d = 2 * (pred - yb) / N`, `dW = X.T @ dz / m`, `grad *= 1. / len(X)`.

`count_divisors` lists, line by line, the divisions whose divisor is a count the replay can read off
the program's variables without calling its code: a name (`N`, `m`), a number, `len(X)`, `X.shape[0]`,
each possibly wrapped in `float(...)`/`int(...)`. Each comes with what to read (`Divisor.read`), which
`replay.data_size` resolves in the step's namespace.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class Divisor:
    line: int
    text: str  # the divisor as written (`N`, `len(X)`, `X.shape[0]`)
    statement: str  # the statement it divides in, as written
    read: tuple[str, str, int]  # ("name", "N", 0), ("number", "", 512), ("len", "X", 0), ("shape", "X", 0)


def _read(node: ast.expr) -> tuple[str, str, int] | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("float", "int") and len(node.args) == 1 and not node.keywords:
        return _read(node.args[0])
    if isinstance(node, ast.Name):
        return ("name", node.id, 0)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        value = node.value
        return ("number", "", int(value)) if float(value).is_integer() and value > 1 else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
        return ("len", node.args[0].id, 0)
    if (
        isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
        and isinstance(node.value.value, ast.Name) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)
    ):  # fmt: skip
        return ("shape", node.value.value.id, node.slice.value)
    return None


def count_divisors(tree: ast.AST, lines: set[int]) -> list[Divisor]:
    """The divisions by a readable count (`Divisor.read`) on `lines` of `tree`, in line order."""
    found: list[Divisor] = []
    statements = [n for n in walk(tree) if isinstance(n, ast.stmt) and not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.lineno in lines]
    for statement in statements:
        if isinstance(statement, (ast.For, ast.While, ast.If, ast.With, ast.Try)):
            continue  # the statements inside are visited on their own lines
        for node in walk(statement):
            divisor = None
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                divisor = node.right
            elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div):
                divisor = node.value
            read = _read(divisor) if divisor is not None else None
            if read is not None:
                found.append(Divisor(statement.lineno, ast.unparse(divisor), ast.unparse(statement), read))  # type: ignore[arg-type]
    return sorted(found, key=lambda d: d.line)


__all__ = ["Divisor", "count_divisors"]
