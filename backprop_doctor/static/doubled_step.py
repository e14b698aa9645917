"""An update called twice in a row in one pass of a training loop, with nothing between the calls that computes new
gradients:

    for step in range(steps):
        opt.zero_grad()
        loss = loss_and_backward(xb, yb)
        opt.step()
        opt.step()          # the same update again, with the same gradients

`doubled_steps(tree, text)` finds, in a block of a loop's body (the body itself, or that of an `if`, `with` or `try`
inside it, not of a loop or def nested in it), two statements that are the same call (`opt.step()`, `sgd(params,
grads)`, written alike) of a method or function of the file that moves something in place by subtraction
(`p.value -= self.lr * v`, `params[k] -= lr * grads[k]`), with nothing between them but statements that neither bind
a name nor call anything other than `print`. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_NESTED = (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class DoubledStep:
    call: str  # as written (`opt.step()`)
    first_line: int
    line: int  # the second call
    update: str  # the statement of the callee that moves the parameters (`p.value -= self.lr * v`)
    update_line: int
    loop_line: int


def doubled_steps(tree: ast.AST | None, text: str | None = None) -> list[DoubledStep]:
    """Every second call of an in-place update right after the first in one pass of a loop (the module's docstring)."""

    def shown(node: ast.AST) -> str:
        written = ast.get_source_segment(text, node) if text is not None else None
        return " ".join(written.split()) if written else ast.unparse(node)

    if tree is None:
        return []
    methods: dict[str, ast.stmt] = {}
    functions: dict[str, ast.stmt] = {}
    for node in walk(tree):
        if isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.name != "__init__" and (moved := _moves(method)) is not None:
                    methods.setdefault(method.name, moved)
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.FunctionDef) and (moved := _moves(node)) is not None:
            functions[node.name] = moved
    if not (methods or functions):
        return []
    found = []
    for loop in walk(tree):
        if not isinstance(loop, (ast.For, ast.While)):
            continue
        for block in _blocks(loop.body):
            for i, stmt in enumerate(block):
                moved = _update_call(stmt, methods, functions)
                if moved is None:
                    continue
                for later in block[i + 1 :]:
                    if ast.dump(later) == ast.dump(stmt):
                        found.append(DoubledStep(shown(stmt.value), stmt.lineno, later.lineno, shown(moved), moved.lineno, loop.lineno))
                        break
                    if not _inert(later):
                        break
    seen: set[int] = set()
    return [f for f in found if not (f.line in seen or seen.add(f.line))]


def _moves(function: ast.FunctionDef) -> ast.stmt | None:
    """The first statement of `function` that subtracts in place from something other than a counter of `self`."""
    for node in walk(function):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub):
            target = node.target
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                continue  # `self.t -= 1`, `self.lr -= decay`: the optimizer's own numbers
            return node
    return None


def _update_call(stmt: ast.stmt, methods: dict[str, ast.stmt], functions: dict[str, ast.stmt]) -> ast.stmt | None:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id != "self":
        return methods.get(func.attr)
    if isinstance(func, ast.Name):
        return functions.get(func.id)
    return None


def _inert(stmt: ast.stmt) -> bool:
    """A statement that binds nothing and calls nothing but `print` (nothing that computes new gradients)."""
    for node in walk(stmt):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr, *_NESTED)):
            return False
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id == "print"):
            return False
    return True


def _blocks(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """`body` and the statement lists of the `if`, `with` and `try` statements inside it (not of loops or defs)."""
    found = [body]
    for stmt in body:
        if isinstance(stmt, _NESTED):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner:
                found.extend(_blocks(inner))
        for handler in getattr(stmt, "handlers", []) or []:
            found.extend(_blocks(handler.body))
    return found


__all__ = ["DoubledStep", "doubled_steps"]
