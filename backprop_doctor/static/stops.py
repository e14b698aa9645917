"""A training loop that stops itself: early stopping.

`if bad >= patience: break` in the loop, with `bad` counted by another test of the pass
(`if val < best - min_delta: best, bad = val, 0 else: bad += 1`): the loop ends when its
settings say the loss no longer improves. `early_stop` reads the loop for such a `break`, the
settings its tests read (numbers bound before the loop) and how many passes the loop plans
(`range(1000)`); nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class EarlyStop:
    """`break` (line 44) under `if bad >= patience` (line 42), reading `min_delta = 0.1` (line 26)."""

    line: int  # the `break`
    test: str  # the test of the `if` it sits under
    test_line: int
    settings: tuple[tuple[str, int, str], ...]  # (name, line, value) of each number the stopping tests read
    planned: int  # the passes the loop's `range` asks for


def _numbers(scope: list[ast.stmt], before: int) -> dict[str, tuple[int, str]]:
    """Names bound to a number (`min_delta = 0.1`, `best, bad = np.inf, 0`) by statements before line `before`."""
    found: dict[str, tuple[int, str]] = {}
    for stmt in scope:
        if stmt.lineno >= before or not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target, value = stmt.targets[0], stmt.value
        pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
        for name, number in pairs:
            if isinstance(name, ast.Name) and isinstance(number, ast.Constant) and type(number.value) in (int, float):
                found[name.id] = (stmt.lineno, ast.unparse(number))
    return found


def _planned(loop: ast.For | ast.While, numbers: dict[str, tuple[int, str]]) -> int:
    """`for epoch in range(1000)`, `range(epochs)` with `epochs = 1000` before it: 1000; else 0."""
    if not (isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"):
        return 0
    if len(loop.iter.args) != 1:
        return 0
    bound = loop.iter.args[0]
    if isinstance(bound, ast.Constant) and type(bound.value) is int:
        return bound.value
    if isinstance(bound, ast.Name) and bound.id in numbers:
        value = numbers[bound.id][1]
        return int(value) if value.isdigit() else 0
    return 0


def _counter(loop: ast.For | ast.While, name: str) -> bool:
    """`bad += 1`, `bad = 0`, `best, bad = val, 0`: a name the loop only counts with (whole numbers)."""
    for node in walk(loop):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            if not (isinstance(node.value, ast.Constant) and type(node.value.value) is int):
                return False
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
            for bound, given in pairs:
                if isinstance(bound, ast.Name) and bound.id == name and not (isinstance(given, ast.Constant) and type(given.value) is int):
                    return False
    return True


def early_stop(scope: list[ast.stmt], loop: ast.For | ast.While, loss_names: set[str]) -> EarlyStop | None:
    """The `break` of `loop`'s own body (not an inner loop's) under an `if` whose test reads no loss
    (`loss_names`: a loss reaching a target, `if loss < 1e-3: break`, is training done, not stopped),
    with the settings its tests read; None when the loop has none or plans no counted passes."""
    parents: dict[int, ast.AST] = {}

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.For, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue  # a break there ends another loop
            parents[id(child)] = node
            visit(child)

    for stmt in loop.body:
        parents[id(stmt)] = loop
        visit(stmt)
    inside = {t.id for n in walk(loop) if isinstance(n, (ast.Assign, ast.AugAssign, ast.For)) for t in walk(n.target if not isinstance(n, ast.Assign) else ast.Tuple(elts=n.targets)) if isinstance(t, ast.Name)}
    numbers = {k: v for k, v in _numbers(scope, loop.lineno).items() if k not in inside}  # `bad = 0` counted in the loop is no setting
    planned = _planned(loop, numbers)
    if planned <= 0:
        return None
    tests = [n for s in loop.body for n in walk(s) if isinstance(n, ast.If) and id(n) in parents]
    for node in (n for s in loop.body for n in walk(s) if isinstance(n, ast.Break) and id(n) in parents):
        guard = parents.get(id(node))
        while guard is not None and not isinstance(guard, ast.If) and guard is not loop:
            guard = parents.get(id(guard))
        if not isinstance(guard, ast.If):
            continue
        read = {n.id for n in walk(guard.test) if isinstance(n, ast.Name)}
        if read & loss_names or not all(_counter(loop, name) for name in read & inside):
            continue  # `if loss < 1e-3: break`, `if val_loss > best: break`: a value of the pass, not a count of passes
        counted = {t.id for i in tests for s in [*i.body, *i.orelse] for n in walk(s) if isinstance(n, (ast.Assign, ast.AugAssign))
                   for t in walk(n) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)}  # fmt: skip
        if read & counted:  # `bad` counted by another test: that test's names are the rule's too
            read |= {n.id for i in tests if i is not guard for n in walk(i.test) if isinstance(n, ast.Name)}
        settings = tuple(sorted(((name, *numbers[name]) for name in read if name in numbers), key=lambda s: s[1]))
        if not settings:
            continue
        return EarlyStop(node.lineno, ast.unparse(guard.test), guard.lineno, settings, planned)
    return None
