"""A loop that cuts a new batch of inputs at every pass and leaves its targets as they were.

    idx = rng.choice(N, bs)
    xb, yb = X[idx], y[idx]          # the first batch, inputs and targets together
    for it in range(steps):
        ...loss of model(xb) against yb...
        idx = rng.choice(N, bs)
        xb = X[idx]                  # the next inputs; `yb` still holds the first batch's targets

`stale_targets` reads the tree only: a name cut from a data array by an index (`xb = X[idx]`) inside a
loop, where before the loop the same name and a partner (`yb`) were cut from two arrays by one and the
same index, and the loop reads the partner without ever binding it again. From the second pass on,
every input is paired with the target of another sample.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class StaleTargets:
    line: int  # the statement in the loop that cuts the inputs alone (`xb = X[idx]`)
    statement: str
    inputs: str  # "xb"
    targets: str  # "yb"
    target_cut: str  # "y[idx]": how the targets were cut before the loop, with the loop's index
    paired_line: int  # where the two were cut together
    loop_line: int


def stale_targets(tree: ast.Module | None) -> StaleTargets | None:
    """The first loop of the file that re-cuts the inputs' batch and not its targets (the module's docstring)."""
    if tree is None:
        return None
    scopes = [tree, *(n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for scope in scopes:
        for position, stmt in enumerate(scope.body):
            if isinstance(stmt, (ast.For, ast.While)):
                found = _in_loop(stmt, scope.body[:position])
                if found is not None:
                    return found
    return None


def _cut(value: ast.expr) -> tuple[str, str] | None:
    """(array, index) of `X[idx]`, `X[idx, :]`, `X[idx[:b]]`: a batch taken from a named array by an index
    expression (not a slice of constants)."""
    if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
        return None
    index = value.slice
    if isinstance(index, ast.Tuple) and index.elts and all(isinstance(e, ast.Slice) and e.lower is e.upper is None for e in index.elts[1:]):
        index = index.elts[0]
    if isinstance(index, ast.Slice) or isinstance(index, ast.Constant):
        return None
    if not any(isinstance(n, ast.Name) for n in ast.walk(index)):
        return None
    return value.value.id, ast.unparse(index)


def _pairs(stmt: ast.stmt) -> list[tuple[str, str, str]]:
    """(name, array, index) of each batch a statement cuts: `xb, yb = X[idx], y[idx]` or `xb = X[idx]`."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return []
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        items = list(zip(target.elts, value.elts))
    else:
        items = [(target, value)]
    found = []
    for name, cut in items:
        taken = _cut(cut) if isinstance(name, ast.Name) else None
        if taken is not None:
            found.append((name.id, *taken))
    return found


def _bound(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for n in walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    return names


def _read(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id == name for n in walk(node))


def _in_loop(loop: ast.For | ast.While, before: list[ast.stmt]) -> StaleTargets | None:
    together: dict[str, list[tuple[str, str, str, int]]] = {}  # index -> (name, array, cut, line) cut by it before the loop
    for stmt in before:
        for name, array, index in _pairs(stmt):
            together.setdefault(index, []).append((name, array, f"{array}[{index}]", stmt.lineno))
    bound = _bound(loop)
    for stmt in walk(loop):
        if not isinstance(stmt, ast.Assign):
            continue
        for name, array, index in _pairs(stmt):
            if index not in together or not (set(_names(index)) & bound or isinstance(loop, ast.For) and set(_names(index)) & _bound(loop.target)):
                continue  # an index the loop never draws again: the same batch at every pass
            first = [c for c in together[index] if c[0] == name and c[1] == array]
            partners = [c for c in together[index] if c[0] != name and c[1] != array]
            if not first or len(partners) != 1:
                continue
            partner, partner_array, partner_cut, line = partners[0]
            if partner in bound or not _read(loop, partner):
                continue
            return StaleTargets(stmt.lineno, ast.unparse(stmt), name, partner, partner_cut, line, loop.lineno)
    return None


def _names(index: str) -> list[str]:
    try:
        return [n.id for n in ast.walk(ast.parse(index, mode="eval")) if isinstance(n, ast.Name)]
    except SyntaxError:
        return []
