"""Walking a parsed module without walking its data.

A homework file may paste a data set into the source: `DATA = [0.1, 0.2, ...]`
with hundreds of thousands of numbers. Every fact in `static` is about code, so
the walkers here treat such a literal as one node and never visit its elements.

A data literal is a list, tuple, set or dict with at least `DATA_MIN` elements,
all of them constants (`-1.5` included) or smaller containers of constants
(the rows of a table). Smaller containers are walked as usual: nothing about
small code changes. A long run of numbers that the loader packed into one
element (`[*(0.1, 0.2, ...)]`, see `packed`) counts as the numbers it holds.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
DATA_MIN = 1000  # elements of a container literal before it counts as data

_CONTAINERS = (ast.List, ast.Tuple, ast.Set)


def _elements(node: ast.AST) -> list[ast.AST] | None:
    if isinstance(node, _CONTAINERS):
        return node.elts
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            return None
        return [*node.keys, *node.values]  # type: ignore[list-item]
    return None


def packed_size(node: ast.AST) -> int:
    """How many numbers a `*(...)` element packed by `static.packed` stands for (0 for any other node)."""
    if type(node) is ast.Starred and type(node.value) is ast.Constant and type(node.value.value) is tuple:
        return len(node.value.value)
    return 0


def _constant(node: ast.AST) -> bool:
    if type(node) is ast.Constant or packed_size(node):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return type(node.operand) is ast.Constant
    items = _elements(node)
    return items is not None and all(_constant(item) for item in items)


_SEEN: dict[int, tuple[ast.AST, bool]] = {}  # large containers already judged (each walk meets them again)


def is_data(node: ast.AST) -> bool:
    """True for a container literal of at least DATA_MIN constants (or rows of constants)."""
    items = _elements(node)
    if items is None or (len(items) < DATA_MIN and sum(packed_size(item) or 1 for item in items) < DATA_MIN):
        return False
    seen = _SEEN.get(id(node))
    if seen is not None and seen[0] is node:
        return seen[1]
    if len(_SEEN) > 256:
        _SEEN.clear()
    kinds = set(map(type, items))  # at C speed: a flat list of numbers is decided here
    answer = kinds == {ast.Constant} or all(_constant(item) for item in items)
    _SEEN[id(node)] = (node, answer)
    return answer


def children(node: ast.AST) -> Iterator[ast.AST]:
    """The child nodes of `node` (as `ast.iter_child_nodes`), none for a data literal."""
    if isinstance(node, (*_CONTAINERS, ast.Dict)) and is_data(node):
        return iter(())
    return ast.iter_child_nodes(node)


_MAYBE_DATA = frozenset({*_CONTAINERS, ast.Dict})
_AST = ast.AST


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node`, itself included (as `ast.walk`, breadth first), without the elements of data literals.

    `children` and `ast.iter_child_nodes` inlined: every fact in `static` walks the tree, and two
    generators per node were a tenth of a small file's whole check."""
    todo = deque([node])
    take, put = todo.popleft, todo.append
    while todo:
        node = take()
        kind = type(node)
        if kind not in _MAYBE_DATA or not is_data(node):
            for name in kind._fields:
                field = getattr(node, name, None)
                if isinstance(field, _AST):
                    put(field)
                elif isinstance(field, list):
                    for item in field:
                        if isinstance(item, _AST):
                            put(item)
        yield node


def spelled(node: ast.AST) -> str | None:
    """`ptr` of a name, `self.ptr` of an attribute of a name; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None
