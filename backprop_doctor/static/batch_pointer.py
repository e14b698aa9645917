"""A training loop that cuts its batch at a position it computes (`xb = X[ptr:ptr + bs]`, `ptr = ...`):
`moving_cuts` reads the tree only.

It finds, in the loop's own statements (not those of a loop or function inside it), a cut of an array
bound outside the loop, by a slice or an index that reads a name the loop binds (the pointer it moves,
the loop's own variable, a start it computes), and follows that name back to the statement of the loop
that computes it: a pointer moved from its own value (`ptr = (ptr + bs) // N`) first, else the nearest
statement binding a name the cut reads (`start = (step * bs) // N`), else the cut itself. Whether the
rows it takes ever change is for the replay's values to say (`checks/step_batch_never_moves.py`). A moved
pointer that the loop's own body sets to a number before the cut (`batch_start = 0` at the top of the
pass) is kept beside it (`reset_line`): that statement, not the move, is what holds the batch still.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import spelled, walk

_NESTED = (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class MovingCut:
    line: int  # the statement holding the cut
    cut: str  # the cut as written (`X[ptr:ptr + bs]`)
    data: str  # the array it is cut from (`X`, `self.X`)
    index: str  # the slice or index as written (`ptr:ptr + bs`), evaluable as `data[index]`
    axis: int  # the samples' axis the cut moves along (1 for `X[:, ptr:ptr + bs]`)
    source_line: int  # the statement that computes where the batch starts (the pointer's update), else `line`
    source: str  # that statement as written
    pointer: str | None  # the name that statement binds and reads again (`ptr`), when it moves a pointer
    counter_reads: bool  # whether the cut or that statement reads the loop's own variable
    at_counter: bool = False  # the cut starts at the loop's own variable itself (`X[i:i + bs]` under `for i in ...`): it moves
    reset_line: int | None = None  # a statement of the loop's own body, before the cut, setting the pointer to a number (`ptr = 0`)
    reset: str | None = None  # that statement as written


def _own_statements(loop: ast.For | ast.While) -> list[ast.stmt]:
    """The loop's statements, those under its `if`s and `with`s included, not those of a loop or def inside it."""
    found: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, _NESTED):
                continue
            found.append(stmt)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and not isinstance(stmt, _NESTED):
                    visit(inner)
            for handler in getattr(stmt, "handlers", []) or []:
                visit(handler.body)

    visit(loop.body)
    return found


def _shallow(stmt: ast.stmt) -> list[ast.AST]:
    """The nodes of `stmt` itself, not of the statements it holds."""
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) or isinstance(child, _NESTED):
                continue
            stack.append(child)
    return nodes


def _bound(stmt: ast.stmt) -> set[str]:
    """The names and `self.` attributes `stmt` binds."""
    return {t for n in _shallow(stmt) if isinstance(getattr(n, "ctx", None), ast.Store) and (t := spelled(n))}


def _read(node: ast.AST) -> set[str]:
    """The names and `self.` attributes `node` reads."""
    return {t for n in walk(node) if isinstance(getattr(n, "ctx", None), ast.Load) and (t := spelled(n))}


def _moving_part(node: ast.Subscript) -> tuple[ast.expr, int] | None:
    """The part of a cut that picks samples and its axis: `ptr:ptr + bs` of `X[ptr:ptr + bs]` (0),
    of `X[:, ptr:ptr + bs]` (1); None for a column picked by a number (`X[:, 0]`) or an open slice."""
    index = node.slice
    axis = 0
    if isinstance(index, ast.Tuple):
        if len(index.elts) != 2 or not _whole(index.elts[0]):
            return None
        index, axis = index.elts[1], 1
    if isinstance(index, ast.Slice):
        if index.lower is None and index.upper is None:
            return None
        return index, axis
    if isinstance(index, (ast.Name, ast.BinOp, ast.Subscript, ast.Attribute, ast.Call)):
        return index, axis
    return None


def _whole(node: ast.expr) -> bool:
    return isinstance(node, ast.Slice) and node.lower is None and node.upper is None and node.step is None


def moving_cuts(loop: ast.AST | None) -> list[MovingCut]:
    """The cuts of arrays bound outside `loop` that read a name the loop binds, each with the statement
    computing where it starts (the module's docstring); at most one per statement."""
    if not isinstance(loop, (ast.For, ast.While)):
        return []
    statements = _own_statements(loop)
    target = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)} if isinstance(loop, ast.For) else set()
    bound_in_loop = set(target)
    for stmt in statements:
        bound_in_loop |= _bound(stmt)
    for node in walk(loop):  # names an inner loop or an in-place update binds count as the loop's too
        if isinstance(getattr(node, "ctx", None), ast.Store) and (name := spelled(node)):
            bound_in_loop.add(name)
    found: list[MovingCut] = []
    for stmt in statements:
        for node in sorted(_shallow(stmt), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))):
            data = spelled(node.value) if isinstance(node, ast.Subscript) else None
            if data is None or not isinstance(node.ctx, ast.Load) or data in bound_in_loop:
                continue
            part = _moving_part(node)
            if part is None:
                continue
            index, axis = part
            if any(isinstance(n, ast.Call) for n in walk(index)) and not isinstance(index, ast.Name):
                continue  # a draw (`rng.integers(...)`), a permutation: moves by itself
            reads = _read(index)
            if not reads & bound_in_loop:
                continue  # reads nothing the loop changes: `checks/step_same_batch.py`'s
            source_stmt, pointer = _source(statements, stmt, reads & bound_in_loop, target)
            counter = bool(reads & target) or bool(_read(source_stmt) & target)
            text = ast.unparse(index) if not isinstance(index, ast.Slice) else _slice_text(index)
            start = index.lower if isinstance(index, ast.Slice) else index
            at_counter = isinstance(start, ast.Name) and start.id in target and source_stmt is stmt
            reset = _reset(loop, pointer, stmt) if pointer is not None else None
            found.append(
                MovingCut(
                    stmt.lineno, ast.unparse(node), data, text, axis, source_stmt.lineno, ast.unparse(source_stmt).split("\n")[0], pointer, counter, at_counter,
                    reset.lineno if reset is not None else None, ast.unparse(reset) if reset is not None else None,
                )
            )
            break
    return found


def _reset(loop: ast.For | ast.While, pointer: str, cut: ast.stmt) -> ast.Assign | None:
    """The last statement of the loop's own body (not under an `if`: a wrap-around `if ptr >= N: ptr = 0` is
    right) before the cut that sets the pointer to a number (`batch_start = 0`): it runs at every pass, so
    the pointer's move at the end of the pass never reaches the next one."""
    found = None
    for stmt in loop.body:
        if stmt.lineno >= cut.lineno:
            break
        if (
            isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and spelled(stmt.targets[0]) == pointer
            and isinstance(stmt.value, ast.Constant) and type(stmt.value.value) in (int, float)
        ):  # fmt: skip
            found = stmt
    return found


def _slice_text(node: ast.Slice) -> str:
    lower = ast.unparse(node.lower) if node.lower is not None else ""
    upper = ast.unparse(node.upper) if node.upper is not None else ""
    text = f"{lower}:{upper}"
    if node.step is not None:
        text += f":{ast.unparse(node.step)}"
    return text


def _source(statements: list[ast.stmt], cut: ast.stmt, names: set[str], target: set[str]) -> tuple[ast.stmt, str | None]:
    """The statement of the loop computing where the cut starts: a pointer moved from its own value
    (`ptr = (ptr + bs) // N`, `ptr += bs`) among the names the cut reads, or those they are computed
    from, first; else the last statement before the cut binding one of them; else the cut."""
    seen = set(names)
    frontier = set(names)
    for _ in range(3):  # `idx = order[ptr:ptr + bs]` -> `ptr`
        more: set[str] = set()
        for stmt in statements:
            if stmt is cut or not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                continue
            if _bound(stmt) & frontier:
                more |= _read(stmt) - seen - target
        if not more:
            break
        seen |= more
        frontier = more
    for stmt in statements:
        if not isinstance(stmt, (ast.Assign, ast.AugAssign)):
            continue
        bound = _bound(stmt) & seen
        if not bound:
            continue
        if isinstance(stmt, ast.AugAssign) or bound & _read(stmt.value):
            name = sorted(bound)[0]
            return stmt, name
    before = [s for s in statements if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and s.lineno < cut.lineno and _bound(s) & names]
    if before:
        return before[-1], None
    return cut, None
