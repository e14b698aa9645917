"""A learning-rate schedule written in the training loop: `lr = lr0 * 0.5 ** epoch` at the top of each
pass, or `lr *= 0.95` at the end of each epoch.

`rate_schedule` finds, for the rate name the step's updates share, the statement that sets it inside the
training loop or a loop around it, and the `for ... in range(...)` loop whose counter it follows (the loop
holding a `*=`, or the loop whose variable the formula reads). `replay.schedule` evaluates it; nothing
here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class Schedule:
    rate: str  # `lr`
    line: int  # the statement that sets it
    statement: str  # as written
    formula: str | None  # the right-hand side of `lr = f(epoch)`; None for a factor applied each pass
    factor: str | None  # `0.95` of `lr *= 0.95`, `decay` of `lr = lr * decay`
    divides: bool  # `lr /= 1.01`
    counter: str  # the loop variable the rate follows (`epoch`)
    loop_line: int  # that loop's line
    range_args: tuple[str, ...]  # the `range(...)` arguments of that loop, as written


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    parents: dict[ast.AST, ast.AST] = {}
    for node in walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _range_loop(node: ast.AST) -> tuple[str, tuple[str, ...]] | None:
    """(counter, range arguments) of `for epoch in range(...)`."""
    if not isinstance(node, ast.For) or not isinstance(node.target, ast.Name):
        return None
    it = node.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and 1 <= len(it.args) <= 3 and not it.keywords:
        return node.target.id, tuple(ast.unparse(a) for a in it.args)
    return None


def _factor(statement: ast.stmt, rate: str) -> tuple[str, bool] | None:
    """(`0.95`, divides) of `lr *= 0.95`, `lr /= 1.01`, `lr = lr * decay`, `lr = decay * lr`, `lr = lr / 1.01`."""
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, (ast.Mult, ast.Div)):
        return ast.unparse(statement.value), isinstance(statement.op, ast.Div)
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp) and isinstance(statement.value.op, (ast.Mult, ast.Div)):
        left, right = statement.value.left, statement.value.right
        if isinstance(left, ast.Name) and left.id == rate and not _reads(right, rate):
            return ast.unparse(right), isinstance(statement.value.op, ast.Div)
        if isinstance(statement.value.op, ast.Mult) and isinstance(right, ast.Name) and right.id == rate and not _reads(left, rate):
            return ast.unparse(left), False
    return None


def _reads(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in walk(node))


def rate_schedule(tree: ast.AST | None, loop_line: int, rate: str) -> Schedule | None:
    """The statement inside the training loop at `loop_line` (or a loop around it) that sets `rate` each
    pass, with the `range` loop whose passes it counts."""
    if tree is None or not rate.isidentifier():
        return None
    loop = next((n for n in walk(tree) if isinstance(n, (ast.For, ast.While)) and n.lineno == loop_line), None)
    if loop is None:
        return None
    parents = _parents(tree)
    loops: list[ast.AST] = [loop]
    node: ast.AST = loop
    while node in parents and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node = parents[node]
        if isinstance(node, (ast.For, ast.While)):
            loops.append(node)
    for holder in loops:  # the training loop first, then the loops around it
        for statement in (s for s in walk(holder) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno != holder.lineno):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if not (len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == rate):
                continue
            factor = _factor(statement, rate)
            if factor is not None:
                inner = _innermost_loop(statement, parents)
                ranged = _range_loop(inner) if inner is not None else None
                if ranged is not None:
                    return Schedule(rate, statement.lineno, ast.unparse(statement), None, factor[0], factor[1], ranged[0], inner.lineno, ranged[1])  # type: ignore[union-attr]
                continue
            if isinstance(statement, ast.Assign):
                value = _branched(statement, rate, parents)
                for around in loops:
                    ranged = _range_loop(around)
                    if ranged is not None and _reads(value, ranged[0]):
                        return Schedule(rate, statement.lineno, _written(statement, value), ast.unparse(value), None, False, ranged[0], around.lineno, ranged[1])
                counted = _counted(value, loops, parents)
                if counted is not None:
                    name, span = counted
                    return Schedule(rate, statement.lineno, _written(statement, value), ast.unparse(value), None, False, name, loop.lineno, span)
    return None


def _written(statement: ast.Assign, value: ast.expr) -> str:
    """The statement as written, or `lr = a if epoch < warm else b` for a rate set in both branches of an `if`."""
    if value is statement.value:
        return ast.unparse(statement)
    return ast.unparse(ast.Assign(targets=statement.targets, value=value, lineno=statement.lineno))


def _branched(statement: ast.Assign, rate: str, parents: dict[ast.AST, ast.AST]) -> ast.expr:
    """The rate's formula over both branches when the pass sets it in an `if` and its `else` (a warm-up,
    then a decay): `if epoch < warm: lr = a` / `else: lr = b` reads as `a if epoch < warm else b`. An
    `elif` chain is read the same way; a branch that sets it with more than that one statement, or an
    `if` without an `else`, leaves the statement's own value."""
    branch = parents.get(statement)
    if not (isinstance(branch, ast.If) and branch.body == [statement]):
        return statement.value
    return _if_value(branch, rate) or statement.value


def _if_value(branch: ast.If, rate: str) -> ast.expr | None:
    def sets(body: list[ast.stmt]) -> ast.expr | None:
        if len(body) == 1 and isinstance(body[0], ast.If):
            return _if_value(body[0], rate)
        if len(body) == 1 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1:
            target = body[0].targets[0]
            if isinstance(target, ast.Name) and target.id == rate:
                return body[0].value
        return None

    then, otherwise = sets(branch.body), sets(branch.orelse)
    if then is None or otherwise is None:
        return None
    return ast.IfExp(test=branch.test, body=then, orelse=otherwise)


def _counted(formula: ast.expr, loops: list[ast.AST], parents: dict[ast.AST, ast.AST]) -> tuple[str, tuple[str, str]] | None:
    """(counter, range arguments over the passes still to come) of a formula that reads a counter of its
    own the training loop adds one to every pass (`lr = lr0 * 0.5 ** it` ... `it += 1`), counted over the
    `range` loops around: from its value when the step begins, as many passes as those loops make."""
    ranges = [_range_loop(around) for around in loops]
    if ranges[0] is None or any(r is None for r in ranges):
        return None
    for name in {n.id for n in walk(formula) if isinstance(n, ast.Name)}:
        counts = [
            s for s in walk(loops[0]) if isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name) and s.target.id == name
            and isinstance(s.op, ast.Add) and isinstance(s.value, ast.Constant) and s.value.value == 1
        ]  # fmt: skip
        if len(counts) == 1 and _innermost_loop(counts[0], parents) is loops[0]:
            lengths = " * ".join(f"len(range({', '.join(r[1])}))" for r in ranges if r is not None)
            return name, (name, f"{name} + {lengths}")
    return None


def _innermost_loop(statement: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    """The loop that runs `statement` on every pass; None when a condition stands between them (`if epoch %
    10 == 0: lr *= 0.5` decays every tenth pass only) or a function does."""
    node = statement
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.For, ast.While)):
            return node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.If)):
            return None
    return None


__all__ = ["Schedule", "rate_schedule"]
