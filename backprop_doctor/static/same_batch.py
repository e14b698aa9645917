"""A mini-batch loop that cuts the same batch at every pass: `for i in range(0, len(X), bs): xb = X[:bs]`.

`fixed_batch` reads the tree only. It finds, in a training step's loop, a batch cut from a data array by
a slice that reads nothing the loop changes (not the loop's own variable, not a name the loop binds),
where the loop is a pass over the batches of an epoch (a `for` over a `range`, inside another loop)
whose variable the body never reads. Whether the slice is smaller than the data is for the replay's
values to say (`checks/step_same_batch.py`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class FixedBatch:
    line: int  # the statement that cuts the batch
    statement: str  # as written
    batch: str  # the name bound to the batch (`xb`)
    data: str  # the array it is cut from (`X`)
    cut: str  # the cut as written (`X[:bs]`)
    variable: str  # the loop's variable the cut never reads (`i`)
    loop_line: int
    width: str | None  # the batch's size as the slice writes it (`bs` of `X[:bs]`), when it starts at 0


def fixed_batch(tree: ast.AST, loop: ast.AST | None) -> FixedBatch | None:
    """The first batch `loop` cuts the same way at every pass, when `loop` is a pass over an epoch's
    batches that never reads its own variable (the module's docstring); else None."""
    if not isinstance(loop, ast.For) or not isinstance(loop.target, ast.Name):
        return None
    if not (isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"):
        return None
    variable = loop.target.id
    read = {n.id for s in loop.body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if variable in read or not _inside_a_loop(tree, loop):
        return None
    bound = {variable} | {n.id for s in loop.body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for statement in loop.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target, value = statement.targets[0], statement.value
        pairs = (
            list(zip(target.elts, value.elts))
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts)
            else [(target, value)]
        )
        for name, cut in pairs:
            if not (isinstance(name, ast.Name) and isinstance(cut, ast.Subscript) and isinstance(cut.value, ast.Name)):
                continue
            if cut.value.id in bound or not isinstance(cut.slice, ast.Slice) or (cut.slice.lower is None and cut.slice.upper is None):
                continue
            reads = {n.id for n in walk(cut.slice) if isinstance(n, ast.Name)}
            if reads & bound or any(isinstance(n, ast.Call) and not _a_count(n) for n in walk(cut.slice)):
                continue
            width = ast.unparse(cut.slice.upper) if cut.slice.lower is None and cut.slice.upper is not None and cut.slice.step is None else None
            return FixedBatch(statement.lineno, ast.unparse(statement), name.id, cut.value.id, ast.unparse(cut), variable, loop.lineno, width)
    return None


def _a_count(call: ast.Call) -> bool:
    """`len(X)`, `int(n / 2)`: a call that counts, the same at every pass."""
    return isinstance(call.func, ast.Name) and call.func.id in ("len", "int", "min", "max")


def _inside_a_loop(tree: ast.AST, loop: ast.For) -> bool:
    """Whether another loop (the epochs) holds `loop`."""
    return any(
        isinstance(outer, (ast.For, ast.While)) and outer is not loop and any(n is loop for n in walk(outer))
        for outer in walk(tree)
    )  # fmt: skip


__all__ = ["FixedBatch", "fixed_batch"]
