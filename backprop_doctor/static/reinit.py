"""A training loop's parameters bound afresh at the start of every epoch.

    params = init_params(seed=0)
    for epoch in range(40):
        W1, b1, W2, b2 = init_params(seed=0)      # every epoch starts again from the initial weights
        for start in range(0, n, bs):
            ...
            W1 = W1 - lr * dW1

`rebound_each_pass` finds, among the statements of the loop around the training loop (or of the
training loop itself, before its update), an assignment that binds the parameters the updates move
(`W1`, `model` of `model.W1`, `self.params` of `self.params['W1']`) to a fresh value: a call that
reads none of them (`init_params(seed=0)`, `MLP(2, 16, 1)`, `np.random.randn(2, 16)`). The loop is
an epoch's loop: its variable is read by nothing but prints and the tests guarding them (a loop over
learning rates, folds or sizes reads its variable, and is a search, not a training run), and it keeps
no best result (`if loss < best: best = ...`). Nothing here runs user code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class Rebound:
    line: int  # the statement that binds the parameters afresh
    statement: str  # as written
    names: tuple[str, ...]  # what it binds that holds parameters ("W1", "model")
    loop_line: int  # the loop that runs it once a pass
    call: str  # the call that makes the fresh value ("init_params(seed=0)"), or the list of new arrays
    seeded: bool  # the call is handed a fixed seed: the same values every time
    literal: bool = False  # a list, tuple or dict of new arrays written out (`weights = [np.random.randn(2, 8), ...]`)


def rebound_each_pass(tree: ast.Module | None, loop: ast.stmt | None, parameters: Iterable[str]) -> Rebound | None:
    """The statement that rebinds the parameters (paths as the replay names them: `W1`, `model.W1`,
    `self.params['W1']`) at the start of each pass of `loop` or of the loop around it."""
    if tree is None or not isinstance(loop, (ast.For, ast.While)):
        return None
    paths = [p for p in parameters if p]
    if not paths:
        return None
    outer = _enclosing_loop(tree, loop)
    for candidate in ([outer] if outer is not None else []) + [loop]:
        if not _epoch_loop(candidate):
            continue
        for stmt in candidate.body:
            if stmt is loop or _contains(stmt, loop) or (candidate is loop and _updates_here(stmt, paths)):
                break  # only what runs before the training (or the update) in each pass
            found = _fresh_binding(stmt, paths)
            if found is not None:
                names, call = found
                return Rebound(stmt.lineno, ast.unparse(stmt), names, candidate.lineno, ast.unparse(call), _seeded(call), not isinstance(call, ast.Call))
    return None


def _fresh_binding(stmt: ast.stmt, paths: list[str]) -> tuple[tuple[str, ...], ast.Call] | None:
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and (isinstance(stmt.value, ast.Call) or _fresh_literal(stmt.value))):
        return None
    target = stmt.targets[0]
    bound = [ast.unparse(t) for t in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target])]
    holding = tuple(b for b in bound if any(_holds(b, p) for p in paths))
    if not holding:
        return None
    read = {ast.unparse(n) for n in walk(stmt.value) if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript))}
    if any(r == b or r.startswith((b + ".", b + "[")) or b.startswith((r + ".", r + "[")) for r in read for b in holding):
        return None  # a value made from the parameters themselves (`W = W.copy()`, `model = refine(model)`)
    if any(any(_holds(r, p) for p in paths) for r in read):
        return None
    return holding, stmt.value


def _fresh_literal(value: ast.expr) -> bool:
    """`[np.random.randn(2, 8) * 0.5, np.zeros(8)]`, `{"W": rng.normal(size=(2, 8))}`: a list, tuple or dict
    whose every item is made by a call (new arrays at every run of the statement)."""
    items = value.values if isinstance(value, ast.Dict) else value.elts if isinstance(value, (ast.List, ast.Tuple)) else None
    return bool(items) and all(
        any(isinstance(n, ast.Call) for n in walk(item)) and not any(isinstance(n, ast.Subscript) for n in walk(item)) for item in items
    )  # fmt: skip


def _holds(bound: str, path: str) -> bool:
    return path == bound or path.startswith((bound + ".", bound + "["))


def _epoch_loop(loop: ast.stmt) -> bool:
    """A loop whose variable only prints and guards prints (`for epoch in range(40)`), keeping no best result."""
    if isinstance(loop, ast.While):
        return not _keeps_best(loop)
    if not isinstance(loop, ast.For) or _keeps_best(loop):
        return False
    variables = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}
    allowed: set[int] = set()
    for node in walk(loop):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            allowed.update(id(n) for n in walk(node))
        if isinstance(node, ast.If) and all(_prints(s) for s in node.body + node.orelse):
            allowed.update(id(n) for n in walk(node.test))
    allowed.update(id(n) for n in walk(loop.target))
    return not any(isinstance(n, ast.Name) and n.id in variables and id(n) not in allowed for n in walk(loop))


def _prints(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return True  # print(...), log.append(...): a report
    return isinstance(stmt, (ast.Assign, ast.Pass)) and not any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in getattr(stmt, "targets", []))


def _keeps_best(loop: ast.stmt) -> bool:
    """`if loss < best: best_W = W.copy()`: a search over restarts, which keeps its best run."""
    for node in walk(loop):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and any(isinstance(o, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) for o in node.test.ops):
            if any(isinstance(s, ast.Assign) for s in node.body) and not all(_report_only(s) for s in node.body):
                return True
    return False


def _report_only(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)


def _updates_here(stmt: ast.stmt, paths: list[str]) -> bool:
    """`W1 -= ...`, `W1 = W1 - ...`: the statement moves a parameter."""
    for node in walk(stmt):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            for t in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                text = ast.unparse(t)
                if isinstance(node, ast.AugAssign) and any(_holds(text, p) or _holds(p, text) for p in paths):
                    return True
                if isinstance(node, ast.Assign) and any(text == p for p in paths) and any(
                    isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and ast.unparse(n) == text for n in walk(node.value)
                ):
                    return True
    return False


def _enclosing_loop(tree: ast.Module, loop: ast.stmt) -> ast.For | ast.While | None:
    """The nearest loop whose body holds `loop`, inside the same function."""
    best: ast.For | ast.While | None = None
    for node in walk(tree):
        if isinstance(node, (ast.For, ast.While)) and node is not loop and _contains(node, loop, functions=False):
            if best is None or _contains(best, node, functions=False):
                best = node
    return best


def _contains(outer: ast.AST, inner: ast.AST, functions: bool = True) -> bool:
    stack = list(ast.iter_child_nodes(outer))
    while stack:
        node = stack.pop()
        if node is inner:
            return True
        if not functions and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _seeded(call: ast.expr) -> bool:
    """`init_params(seed=0)`, `MLP(2, 16, 1, seed=3)`: handed a fixed seed."""
    return any(k.arg and "seed" in k.arg.lower() and isinstance(k.value, ast.Constant) for k in getattr(call, "keywords", ()))
