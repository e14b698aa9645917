"""A training loop that visits its samples in the order they are stored: `for i in range(len(X))`,
`order = np.arange(len(X)); for i in order:`, `for x, t in zip(X, y):`, `X[i:i + bs]` in a loop over
`range(0, len(X), bs)`, in a file that shuffles nothing.

`stored_order` reads the tree only: the loop, the arrays it reads a sample (or a run of samples) of
at the loop's variable, and the name it walks. Whether the targets among those arrays are sorted
by label is for the replay's values to say (`checks/step_sorted_order.py`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_SHUFFLES = re.compile(r"(?i)shuffle|permutation|permute|choice|sample|randperm|randint")


@dataclass(frozen=True)
class StoredOrder:
    loop_line: int
    walks: str  # what the loop walks, as written (`order`, `range(len(X))`, `zip(X, y)`)
    arrays: tuple[str, ...]  # the arrays it reads at the loop's variable, or zips (`X`, `y`)
    batches: tuple[str, ...] = ()  # names bound to a run of samples cut at the loop's variable (`xb` of `xb = X[i:i + bs]`)
    sliced: bool = False  # the loop reads runs of samples (`X[i:i + bs]`), not one sample each


def stored_order(tree: ast.AST, loop: ast.AST | None) -> StoredOrder | None:
    """The arrays `loop` reads in their stored order, when nothing in the file shuffles (the module's
    docstring); else None."""
    if not isinstance(loop, ast.For) or _shuffles(tree):
        return None
    iterated = loop.iter
    if isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Name) and iterated.func.id == "zip":
        arrays = tuple(a.id for a in iterated.args if isinstance(a, ast.Name))
        return StoredOrder(loop.lineno, ast.unparse(iterated), arrays) if len(arrays) == len(iterated.args) >= 2 else None
    if not isinstance(loop.target, ast.Name) or not _in_order(tree, iterated):
        return None
    variable = loop.target.id
    picks = _picks(tree, loop, variable)
    arrays = []
    sliced = False
    for node in (n for s in loop.body for n in walk(s)):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id not in picks.values() and _at(node.slice, variable):
            arrays.append(node.value.id)
            sliced = sliced or isinstance(node.slice, ast.Slice)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name) and node.slice.id in picks:
            arrays.append(node.value.id)  # `X[idx]` after `idx = order[start:start + bs]`
            sliced = True
    arrays = list(dict.fromkeys(arrays))
    batches = []
    for node in (n for s in loop.body for n in walk(s)):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            pairs = list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) else [(target, value)]
            batches += [
                name.id for name, cut in pairs
                if isinstance(name, ast.Name) and isinstance(cut, ast.Subscript) and (
                    isinstance(cut.slice, ast.Slice) and _at(cut.slice, variable) or isinstance(cut.slice, ast.Name) and cut.slice.id in picks
                )
            ]  # fmt: skip
    return StoredOrder(loop.lineno, ast.unparse(iterated), tuple(arrays), tuple(batches), sliced) if len(arrays) >= 2 else None


def _shuffles(tree: ast.AST) -> bool:
    """Whether the file calls anything that draws an order or samples at random."""
    return any(
        isinstance(node, ast.Call) and _SHUFFLES.search(ast.unparse(node.func).rpartition(".")[2])
        for node in walk(tree)
    )  # fmt: skip


def _in_order(tree: ast.AST, iterated: ast.expr) -> bool:
    """`range(...)`, `np.arange(...)`, `list(range(...))`, or a name bound to one of those (and to nothing else)."""
    if isinstance(iterated, ast.Call):
        name = ast.unparse(iterated.func).rpartition(".")[2]
        if name in ("range", "arange"):
            return True
        return name == "list" and len(iterated.args) == 1 and _in_order(tree, iterated.args[0])
    if isinstance(iterated, ast.Name):
        values = [
            node.value for node in walk(tree)
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == iterated.id for t in node.targets)
        ]  # fmt: skip
        return bool(values) and all(isinstance(v, ast.Call) and _in_order(tree, v) for v in values)
    return False


def _picks(tree: ast.AST, loop: ast.For, variable: str) -> dict[str, str]:
    """Names the loop's body binds to a run of an order the file keeps in stored order, cut at the loop's
    variable: {`idx`: `order`} for `idx = order[start:start + bs]` after `order = np.arange(N)`."""
    found = {}
    for node in (n for s in loop.body for n in walk(s)):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            cut = node.value
            if isinstance(cut, ast.Subscript) and isinstance(cut.value, ast.Name) and _at(cut.slice, variable) and _in_order(tree, cut.value):
                found[node.targets[0].id] = cut.value.id
    return found


def _at(index: ast.AST, variable: str) -> bool:
    """`X[i]`, `X[i, :]`, `X[i:i + bs]`: an index that starts at the loop's variable."""
    if isinstance(index, ast.Name):
        return index.id == variable
    if isinstance(index, ast.Tuple) and index.elts:
        return _at(index.elts[0], variable)
    if isinstance(index, ast.Slice) and index.lower is not None:
        return isinstance(index.lower, ast.Name) and index.lower.id == variable
    return False


__all__ = ["StoredOrder", "stored_order"]
