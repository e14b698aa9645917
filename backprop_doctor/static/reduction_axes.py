"""The axis a backward's sum runs over, against the axes its forward pass reduces over.

A normalisation written by hand (group, layer or batch norm, a softmax over a chosen axis) reduces
over one axis in its forward pass (`mu = xg.mean(axis=2, keepdims=True)`) and its backward sums the
incoming gradient over that same axis (`dxhat.sum(axis=2, keepdims=True)`). A sum over another axis
in the statements that compute the wrong input gradient is the slip:

    s1 = dxhat.sum(axis=1, keepdims=True)    # forward reduces over axis 2
    s2 = (dxhat * self.xhat).sum(axis=2, keepdims=True)
    dx = self.inv / m * (m * dxhat - s1 - self.xhat * s2)

`off_axis_sum` names that statement when it is the only one of them whose axis the forward never
reduces over.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_REDUCING = frozenset({"sum", "mean", "var", "std", "max", "min", "amax", "amin", "logsumexp"})


@dataclass(frozen=True)
class OffAxis:
    line: int  # the statement that sums over the other axis
    axis: int  # the axis it sums over
    forward_axis: int  # the one axis the forward pass reduces over
    forward: str  # the forward function's name
    text: str  # the statement as written


def _axes(node: ast.AST) -> list[int | None]:
    """The `axis=` of each reduction in `node` (None when it is not a literal integer)."""
    found: list[int | None] = []
    for call in (n for n in walk(node) if isinstance(n, ast.Call)):
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in _REDUCING):
            continue
        axis = next((k.value for k in call.keywords if k.arg == "axis"), None)
        if axis is None and isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy") and len(call.args) > 1:
            axis = call.args[1]  # `np.sum(x, 1)`
        elif axis is None and not (isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy")) and call.args:
            axis = call.args[0]  # `x.sum(1)`
        if axis is None:
            continue
        value = axis.value if isinstance(axis, ast.Constant) else -axis.operand.value if (
            isinstance(axis, ast.UnaryOp) and isinstance(axis.op, ast.USub) and isinstance(axis.operand, ast.Constant)
        ) else None  # fmt: skip
        found.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
    return found


def _function_at(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost function whose lines (its decorators included) hold `line`."""
    found = None
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            if start <= line <= (node.end_lineno or node.lineno) and (found is None or start >= found.lineno):
                found = node
    return found


def off_axis_sum(tree: ast.Module, line: int, after: int, forward_line: int, read: set[str]) -> OffAxis | None:
    """The one statement of the function holding `line` (a wrong adjoint's statement), after line
    `after` (the last adjoint measured right there) and up to `line`, that `line` reads (`read`) or is,
    and that reduces over an axis the function holding `forward_line` (its forward pass) never
    reduces over, when that forward pass reduces over one literal axis only. None otherwise."""
    backward, forward = _function_at(tree, line), _function_at(tree, forward_line)
    if backward is None or forward is None or backward is forward:
        return None
    forward_axes = set(_axes(forward))
    if len(forward_axes) != 1 or None in forward_axes:
        return None
    (axis,) = forward_axes
    candidates = [
        stmt for stmt in walk(backward) if isinstance(stmt, (ast.Assign, ast.AugAssign)) and after < stmt.lineno <= line
        and (stmt.lineno == line or any(isinstance(t, ast.Name) and t.id in read for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])))
    ]  # fmt: skip
    off = [(stmt, a) for stmt in candidates for a in _axes(stmt.value) if a is not None and a != axis]
    if len({id(stmt) for stmt, _ in off}) != 1 or any(a is None for stmt in candidates for a in _axes(stmt.value)):
        return None
    stmt, other = off[0]
    if other < 0 or axis < 0:
        return None  # `axis=-1` against `axis=2` may be the same axis: not told apart here
    return OffAxis(stmt.lineno, other, axis, forward.name, ast.unparse(stmt))
