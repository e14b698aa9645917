"""A backward that recomputes a forward difference with its operands reversed.

`forward(self, x0, x1)` computes `diff = x0 - x1`; `backward(self, gy)` computes it again, as
`diff = x1.data - x0.data`, and every gradient it returns is computed from it: each has its sign
flipped, and the statement to fix is that difference, not the gradient lines that only use it."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Reversed:
    """The backward's reversed difference and the forward's, with the difference written the right way round."""

    statement: ast.Assign  # `diff = x1.data - x0.data` in the backward
    forward: ast.Assign  # `diff = x0 - x1` in the forward
    name: str
    fixed: str  # `diff = x0.data - x1.data`


def reversed_difference(tree: ast.Module, line: int) -> Reversed | None:
    """The statement of the backward holding `line` that binds a name the forward beside it (the class's
    `forward` method, or the function named like it with `forward` for `backward`) binds to the same
    difference with its operands reversed, when the statement at `line` is computed from it (through
    the backward's assignments before it); None otherwise."""
    backward, forward = _pair(tree, line)
    if backward is None or forward is None:
        return None
    own = {s.lineno: s for s in ast.walk(backward) if isinstance(s, ast.stmt) and s is not backward}
    at = own.get(line)
    if at is None:
        return None
    differences = {
        s.targets[0].id: s for s in ast.walk(forward)
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and _difference(s.value) is not None
    }  # fmt: skip
    assignments = sorted((s for s in own.values() if isinstance(s, ast.Assign)), key=lambda s: s.lineno)
    for stmt in reversed([s for s in assignments if s.lineno < line]):
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            continue
        name = stmt.targets[0].id
        mine, theirs = _difference(stmt.value), _difference(differences[name].value) if name in differences else None
        if mine is None or theirs is None:
            continue
        if not (_operand(mine[0]) == _operand(theirs[1]) and _operand(mine[1]) == _operand(theirs[0]) and _operand(mine[0]) != _operand(mine[1])):
            continue
        if not _reads_through(assignments, at, stmt):
            continue
        fixed = ast.Assign(targets=stmt.targets, value=ast.BinOp(left=mine[1], op=ast.Sub(), right=mine[0]), lineno=stmt.lineno)
        return Reversed(stmt, differences[name], name, ast.unparse(fixed))
    return None


def _pair(tree: ast.Module, line: int) -> tuple[ast.FunctionDef | None, ast.FunctionDef | None]:
    """(the backward holding `line`, its forward): a class's `backward`/`forward` methods, or two
    module functions named alike (`mse_backward`, `mse_forward`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            methods = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
            back = methods.get("backward")
            if back is not None and back.lineno <= line <= (back.end_lineno or back.lineno):
                return back, methods.get("forward")
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    for name, back in functions.items():
        if "backward" in name and back.lineno <= line <= (back.end_lineno or back.lineno):
            return back, functions.get(name.replace("backward", "forward"))
    return None, None


def _difference(value: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    return (value.left, value.right) if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub) else None


def _operand(node: ast.expr) -> str | None:
    """`x0` of `x0`, `x0.data`, `self.x0`: the value a difference reads, as forward and backward both name it."""
    if isinstance(node, ast.Attribute) and node.attr == "data":
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _reads_through(assignments: list[ast.Assign], at: ast.stmt, source: ast.Assign) -> bool:
    """Whether `at` reads what `source` binds, directly or through the assignments between them."""
    target = source.targets[0].id  # type: ignore[attr-defined]
    pending = {n.id for n in ast.walk(at) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name == target:
            return True
        if name in seen:
            continue
        seen.add(name)
        for stmt in assignments:
            if source.lineno < stmt.lineno < at.lineno and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                pending |= {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
    return False
