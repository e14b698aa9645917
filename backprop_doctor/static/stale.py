"""Gradients computed from weights the same step has already moved.

A backward pass that updates as it goes (`self.W -= lr * dW` inside `backward`, then
`dx = grad @ self.W.T`; or, in a script, `W2 -= lr * dW2` before `d_h = d_out @ W2.T`)
hands the layer before it a gradient taken at weights the forward pass never used. The
numbers say only that the gradient is off; these functions find the statement that read
the moved weights and the update that moved them.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.fixes import _self_attribute
from backprop_doctor.static.layout import _own_nodes
from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.tree import walk


def stale_weights(tree: ast.Module, line: int) -> tuple[str, int] | None:
    """`dx = grad @ self.W.T` at `line`, after `self.W -= lr * dW` earlier in the same function:
    (the attribute, the line that moved it), or None."""
    function = _scope_of(tree, line)
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    statement = next((n for n in walk(function) if isinstance(n, (ast.Assign, ast.AugAssign, ast.Return)) and n.lineno == line), None)
    if statement is None or statement.value is None:
        return None
    read = {a for n in walk(statement.value) if (a := _self_attribute(n)) is not None}
    for node in walk(function):
        if not isinstance(node, (ast.Assign, ast.AugAssign)) or node.lineno >= line:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        moved = [a for t in targets if (a := _self_attribute(t)) in read]
        # a step (`self.W -= ...`, `self.W = self.W - ...`), not the forward's `self.W = W`
        if moved and (isinstance(node, ast.AugAssign) or any(_self_attribute(n) == moved[0] for n in walk(node.value))):
            return moved[0], node.lineno
    return None


def stale_step_read(body: list[ast.stmt], updated: dict[str, int], line: int, rows: dict[str, str] | None = None) -> tuple[str, int, int] | None:
    """In one pass of a training loop (`body`), the statements that compute the gradient at `line`
    (it and those it reads from, back to the pass's start): the first that reads a parameter an
    update of `updated` ({name: its update's line}) moved before it. (the parameter, the line that
    reads it, the update's line), or None. `rows`: {name: index} of updates that move one row
    (`V[i] += ...`); a statement reading only other rows of it (`V[j]`) reads nothing they moved."""
    statements = sorted((s for s in body for s in [s] if s.lineno <= line), key=lambda s: s.lineno)
    for alias, (owner, at) in row_views(statements).items():
        if owner in updated and at < updated[owner]:
            updated = {**updated, alias: updated[owner]}  # `h = W_in[c]` before `W_in[c] -= ...`: `h` moves with it
    needed: set[str] = set()
    chain: list[ast.stmt] = []
    for stmt in reversed(statements):
        targets = {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if stmt.lineno == line or targets & needed:
            if stmt.lineno != line and any(name in updated and updated[name] == stmt.lineno for name in targets):
                continue  # an update itself
            chain.append(stmt)
            needed |= {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for stmt in sorted(chain, key=lambda s: s.lineno):
        read = {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} | _dotted_reads(stmt)
        for name in sorted(read):
            if name in updated and updated[name] < stmt.lineno and not (isinstance(stmt, ast.AugAssign) and updated[name] == stmt.lineno):
                if rows and name in rows and _other_rows(stmt, name, rows[name]):
                    continue
                return name, stmt.lineno, updated[name]
    return None


def _dotted_reads(stmt: ast.stmt) -> set[str]:
    """The attributes a statement reads, as written (`self.W2` of `d_h = d_out @ self.W2.T`): a
    parameter an object holds, moved by `self.W2 -= lr * dW2` earlier in the same pass."""
    found = set()
    for node in walk(stmt):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            text = ast.unparse(node)
            if all(part.isidentifier() for part in text.split(".")):
                found.add(text)
    return found


def _other_rows(stmt: ast.stmt, name: str, index: str) -> bool:
    """Every read of `name` in `stmt` picks a row by another index than `index` (`V[j]` after `V[i]` moved)."""
    reads = sum(1 for n in walk(stmt) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load))
    others = sum(
        1 for n in walk(stmt)
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == name and ast.unparse(n.slice) != index
    )  # fmt: skip
    return reads == others


def row_views(statements: list[ast.stmt]) -> dict[str, tuple[str, int]]:
    """Names a pass binds to an entry or row of an array (`h = W_in[c]`, `v = W[:, j]`): a view NumPy
    hands out for a basic index, so an update of the array moves the name too. {name: (the array, line)}."""
    found = {}
    for stmt in statements:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        value = stmt.value
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and _basic(value.slice):
            found[stmt.targets[0].id] = (value.value.id, stmt.lineno)
    return found


def _basic(index: ast.expr) -> bool:
    """An index NumPy answers with a view: names, numbers and slices, not a list or an array of them."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(p, (ast.Name, ast.Constant, ast.Slice)) for p in parts)


def stale_output(tree: ast.Module, loop: ast.For | ast.While) -> tuple[str, int, str, int, list[str]] | None:
    """`err = pred[i] - y[i]` in a loop over the samples, with `pred = X @ w + b` bound before the loop
    and never inside it, while the loop moves `w` and `b`: (the error's statement as written, its line,
    the output's name, the line that computed it, the moved names it reads), or None."""
    from backprop_doctor.static.steps import _changed, _computed_before, _data_name

    moved = {n for stmt in loop.body for n in _changed(stmt)}
    before = _computed_before(tree, loop, moved)
    if not before:
        return None
    lines = {name: max(n.lineno for n in walk(tree) if isinstance(n, ast.Assign) and n.lineno < loop.lineno
                       and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)) for name in before}  # fmt: skip
    for stmt in loop.body:
        if not isinstance(stmt, ast.Assign):
            continue
        for node in walk(stmt.value):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)):
                continue
            left, right = _data_name(node.left), _data_name(node.right)
            if left is None or right is None:
                continue
            for (_, root), (_, other) in ((left, right), (right, left)):
                if root in before and other not in moved and other not in before:
                    found = [n for n in ast.walk(ast.parse(before[root], mode="eval")) if isinstance(n, ast.Name)]
                    names = [n.id for n in sorted(found, key=lambda n: n.col_offset)]
                    reads = [n for n in dict.fromkeys(names) if n in moved]
                    return ast.unparse(stmt), stmt.lineno, root, lines[root], reads
    return None


def left_by_a_loop(tree: ast.Module, line: int) -> tuple[str, int, int, int, str | None] | None:
    """A name the loop around `line` reads, on that line or through a statement of the loop that
    line reads, which the loop never sets and which only an earlier loop of the same function sets:
    every pass reads the last value that loop left in it (`sp = sigmoid_prime(z)` in the backward
    loop of Nielsen's `backprop`, where `z` is the forward loop's output layer's, not `zs[-l]`).

    (the name, the line that reads it, this loop's line, the loop's line that set it, the list that
    loop appends it to, `zs`, or None); None when there is no such name."""
    scope = _scope_of(tree, line)
    loops = [n for n in _own_nodes(scope) if isinstance(n, (ast.For, ast.While))]
    around = [loop for loop in loops if loop.lineno <= line <= (loop.end_lineno or loop.lineno)]
    if not around:
        return None
    here = max(around, key=lambda loop: loop.lineno)
    inside = _own_nodes(here)
    set_here = _bound(inside) | (_bound([here.target]) if isinstance(here, ast.For) else set())
    # what `line` reads, and what the statements of this loop before it that set those names read
    wanted = {n.id for n in inside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.lineno == line}
    readers = dict.fromkeys(wanted, line)
    for stmt in sorted((n for n in inside if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno < line), key=lambda n: -n.lineno):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if _bound(targets) & wanted:
            for name in (n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)):
                if name not in readers:
                    wanted.add(name)
                    readers[name] = stmt.lineno
    parameters = {a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)} if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else set()
    for name, read_at in sorted(readers.items(), key=lambda item: item[1]):
        if name in set_here or name in parameters:
            continue
        setters = [stmt for stmt in _own_nodes(scope) if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)) and name in _bound([_target_of(stmt)])]
        if not setters:
            continue
        earlier = [loop for loop in loops if (loop.end_lineno or loop.lineno) < here.lineno and all(loop.lineno <= s.lineno <= (loop.end_lineno or loop.lineno) for s in setters)]
        if not earlier:
            continue  # also set outside any earlier loop (`activation = x` before it): not only what a loop left
        setter = min(earlier, key=lambda loop: loop.lineno)  # the outermost earlier loop holding every binding
        if isinstance(setter, ast.For) and name in _bound([setter.target]):
            continue  # the earlier loop's own counter, read after it (`i` of `for i in range(n)`): not a layer's value
        return name, read_at, here.lineno, setter.lineno, _kept_in(setter, name)
    return None


def _kept_in(loop: ast.stmt, name: str) -> str | None:
    """The list or dict `loop` keeps each pass's `name` in: `zs` of `zs.append(z)`, `hs` of `hs[t] = h`."""
    for node in ast.walk(loop):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append" and len(node.args) == 1:
            if isinstance(node.args[0], ast.Name) and node.args[0].id == name:
                return ast.unparse(node.func.value)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == name:
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    return ast.unparse(target.value)
    return None


def _target_of(stmt: ast.stmt) -> ast.AST:
    if isinstance(stmt, ast.Assign):
        return ast.Tuple(elts=list(stmt.targets), ctx=ast.Store())
    return stmt.target  # type: ignore[attr-defined]


def _bound(nodes: list[ast.AST]) -> set[str]:
    """The plain names stored anywhere under `nodes`."""
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
