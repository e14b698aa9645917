"""A mini-batch loop that cuts the same batch at every pass: `for i in range(0, len(X), bs): xb = X[:bs]`,
or a loop over the samples that takes the same one every time: `for i in np.random.permutation(n): x = X[0]`.

`fixed_batch` reads the tree only. It finds, in a training step's loop, a batch cut from a data array by
a slice, or a sample taken by an index, that reads nothing the loop changes (not the loop's own variable,
not a name the loop binds), where the loop is a pass over the batches or samples of an epoch (a `for`
over a `range`, an `arange`, a `permutation` or an order held in a name, inside another loop) whose
variable the body never reads. Whether the slice is smaller than the data is for the replay's values to
say (`checks/step_same_batch.py`).
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
    sample: bool = False  # one sample taken by an index (`X[0]`), not a batch cut by a slice
    unused_order: str | None = None  # a shuffled order the loop computes at every pass and never reads (`perm`)
    order_line: int | None = None  # the statement that computes it


def fixed_batch(tree: ast.AST, loop: ast.AST | None) -> FixedBatch | None:
    """The first batch `loop` cuts the same way at every pass, when `loop` is a pass over an epoch's
    batches that never reads its own variable (the module's docstring); else None."""
    if not isinstance(loop, ast.For) or not isinstance(loop.target, ast.Name):
        return None
    if not _passes_over_data(loop.iter):
        return None
    variable = loop.target.id
    read = {n.id for s in loop.body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    order = _unused_order(loop, read)
    if (variable in read or not _inside_a_loop(tree, loop)) and order is None:
        return None
    bound = {variable} | {n.id for s in loop.body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    outer = _bound_by_outer_loops(tree, loop)  # `X[j]` under `for j in range(n): for k in range(steps):`: several steps on each sample
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
            sample = _an_index(cut.slice)
            if sample and isinstance(cut.slice, ast.Name) and cut.slice.id in outer:
                continue
            if cut.value.id in bound or not (sample or isinstance(cut.slice, ast.Slice)):
                continue
            if isinstance(cut.slice, ast.Slice) and cut.slice.lower is None and cut.slice.upper is None:
                continue
            reads = {n.id for n in walk(cut.slice) if isinstance(n, ast.Name)}
            if reads & bound or any(isinstance(n, ast.Call) and not _a_count(n) for n in walk(cut.slice)):
                continue
            sliced = cut.slice if isinstance(cut.slice, ast.Slice) else None
            width = ast.unparse(sliced.upper) if sliced is not None and sliced.lower is None and sliced.upper is not None and sliced.step is None else None
            return FixedBatch(
                statement.lineno, ast.unparse(statement), name.id, cut.value.id, ast.unparse(cut), variable, loop.lineno, width, sample,
                order[0] if order else None, order[1] if order else None,
            )
    return None


def _unused_order(loop: ast.For, read: set[str]) -> tuple[str, int] | None:
    """A name a statement of the loop's own body binds to a shuffled order (`perm = np.random.permutation(n)`,
    `order = rng.permutation(len(X))`) that nothing in the loop reads: the pass shuffles, then cuts without it."""
    for statement in loop.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)):
            continue
        value = statement.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "permutation":
            if statement.targets[0].id not in read:
                return statement.targets[0].id, statement.lineno
    return None


_ORDERS = ("range", "arange", "permutation")  # `range(n)`, `np.arange(n)`, `rng.permutation(len(X))`: the samples' or batches' positions


def _passes_over_data(iterable: ast.expr) -> bool:
    """Whether `for i in iterable` walks positions in the data: a `range`, NumPy's `arange`, a `permutation`
    (however reached: `np.random.permutation(n)`, `rng.permutation(n)`), or an order held in a name."""
    if isinstance(iterable, ast.Name):
        return True
    if not isinstance(iterable, ast.Call):
        return False
    func = iterable.func
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return called in _ORDERS


def _an_index(index: ast.expr) -> bool:
    """Whether `index` takes one sample: a whole number (`0`, `-1`) or a name (`k`); a tuple of them
    (`X[0, :]`) or a list of positions is no single sample."""
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
        index = index.operand
    if isinstance(index, ast.Constant):
        return type(index.value) is int
    return isinstance(index, ast.Name)


def _a_count(call: ast.Call) -> bool:
    """`len(X)`, `int(n / 2)`: a call that counts, the same at every pass."""
    return isinstance(call.func, ast.Name) and call.func.id in ("len", "int", "min", "max")


def _bound_by_outer_loops(tree: ast.AST, loop: ast.For) -> set[str]:
    """The names the loops that hold `loop` bind: their variables and what their bodies assign."""
    return {
        n.id
        for outer in walk(tree)
        if isinstance(outer, (ast.For, ast.While)) and outer is not loop and any(n is loop for n in walk(outer))
        for n in walk(outer)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _inside_a_loop(tree: ast.AST, loop: ast.For) -> bool:
    """Whether another loop (the epochs) holds `loop`."""
    return any(
        isinstance(outer, (ast.For, ast.While)) and outer is not loop and any(n is loop for n in walk(outer))
        for outer in walk(tree)
    )  # fmt: skip


__all__ = ["FixedBatch", "fixed_batch"]
