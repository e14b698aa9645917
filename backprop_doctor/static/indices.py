"""An array read by the wrong loop's index in a gradient: `dW[:, j] += X[j]` in a loop over the samples
`i` and the classes `j`, where every other line of the function reads `X[i]`.

`mixed_index` reads the function around a line and names the one subscript whose index is another
loop's variable than the one the array is read by everywhere else; nothing here runs user code.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass

from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class MixedIndex:
    """`X[j]` at `line` where the function reads `X[i]` at the lines `others`."""

    line: int
    array: str  # "X"
    written: str  # "j"
    meant: str  # "i"
    others: tuple[int, ...]
    statement: str  # the line as written


def mixed_index(tree: ast.Module, line: int) -> MixedIndex | None:
    """The gradient statement of the function holding `line` that reads an array by the index of another
    loop than every other read of that array in the function (two nested loops over plain ranges)."""
    function = _scope_of(tree, line)
    if function is tree:
        return None  # a module-level line: no function to read
    loops = {n.target.id for n in walk(function) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)}
    if len(loops) < 2:
        return None
    reads: dict[str, list[tuple[str, ast.Subscript]]] = {}
    for node in walk(function):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.ctx, ast.Load):
            index = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
            if isinstance(index, ast.Name) and index.id in loops:
                reads.setdefault(node.value.id, []).append((index.id, node))
    statements = {id(n): s for s in walk(function) if isinstance(s, (ast.Assign, ast.AugAssign)) for n in walk(s)}
    for array, found in reads.items():
        counts = Counter(index for index, _ in found)
        if len(counts) != 2:
            continue
        for (meant, many), (written, once) in (counts.most_common(), counts.most_common()[::-1]):
            if once != 1:
                continue
            node = next(n for index, n in found if index == written)
            statement = statements.get(id(node))
            if statement is None or not _writes_gradient(statement):
                continue
            # the reads by `meant` must be in the loop over `meant` that holds this line: a forward loop and a
            # backward loop may both be `for t in ...`, and the backward's inner loop reads by its own index
            loop = _enclosing_loop(function, node, meant)
            if loop is None:
                continue
            if _walked_by(function, node, array, written):
                continue
            inside = {id(n) for n in walk(loop)}
            others = [n for index, n in found if index == meant and id(n) in inside]
            # read once by the index the gradient's own target is written at (`dW[:, c] += ... * X[c]`), or by
            # an index no other read of the array uses while another is used twice or more
            if not others or not (written in _target_indices(statement) and meant not in _target_indices(statement)) and len(others) < 2:
                continue
            return MixedIndex(node.lineno, array, written, meant, tuple(sorted({n.lineno for n in others})), ast.unparse(statement))
    return None


def _walked_by(function: ast.AST, node: ast.Subscript, array: str, index: str) -> bool:
    """Whether the loop over `index` that holds `node` reads `array` by another expression of `index`
    too (`hs[k - 1]` beside `hs[k]`): a loop that walks that array by its own index."""
    loop = _enclosing_loop(function, node, index)
    if loop is None:
        return False
    for other in walk(loop):
        if other is node or not (isinstance(other, ast.Subscript) and isinstance(other.value, ast.Name) and other.value.id == array):
            continue
        key = other.slice.elts[0] if isinstance(other.slice, ast.Tuple) and other.slice.elts else other.slice
        if not isinstance(key, ast.Name) and any(isinstance(n, ast.Name) and n.id == index for n in walk(key)):
            return True
    return False


def _enclosing_loop(function: ast.AST, node: ast.AST, name: str) -> ast.For | None:
    """The innermost `for name in ...` of `function` whose body holds `node`."""
    held = [
        loop for loop in walk(function)
        if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == name and any(n is node for n in walk(loop))
    ]  # fmt: skip
    return min(held, key=lambda loop: sum(1 for _ in walk(loop)), default=None)


def _target_indices(statement: ast.Assign | ast.AugAssign) -> set[str]:
    """The names a statement's target is subscripted by (`c` of `dW[:, c] += ...`)."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return {n.id for t in targets if isinstance(t, ast.Subscript) for n in walk(t.slice) if isinstance(n, ast.Name)}


def _writes_gradient(statement: ast.Assign | ast.AugAssign) -> bool:
    """A statement that writes a gradient: its target is named like one (`dW`, `grad_W`, `dW[:, j]`)."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    for target in targets:
        base = target
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        name = base.id if isinstance(base, ast.Name) else ""
        if name.startswith(("d", "grad", "g_")) or "grad" in name.lower():
            return True
    return False
