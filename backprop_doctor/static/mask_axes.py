"""A max's mask in a backward taken over another axis than the forward's max.

    def maxout_forward(x, W, b):                 def maxout_backward(dout, cache):
        z = np.einsum(...) + b                       x, W, z = cache
        out = z.max(axis=2)                          mask = (z == z.max(axis=1, keepdims=True))

The backward of a max (maxout, max pooling written with reshapes) routes the gradient to the entries
that won, found again by comparing the array with its own max; taken over another axis, it picks other
winners, and every gradient computed from the mask is wrong while the lines that use it are right.
`mask_axis_mismatch` names that comparison. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef
_MAX = ("max", "amax", "argmax", "nanmax")


@dataclass(frozen=True)
class MaskAxis:
    line: int  # the backward's statement
    array: str  # "z"
    written: str  # "1": the axis the backward's max takes
    forward: str  # "2": the axis the forward's max takes
    statement: str


def mask_axis_mismatch(forward: Function, backward: Function) -> MaskAxis | None:
    """The backward's `array == array.max(axis=a)` whose axis is not the one the forward's max of the same
    array takes (`array.max(axis=f)`, `np.max(array, axis=f)`); None when they agree or either is not written."""
    taken: dict[str, str] = {}
    for node in walk(forward):
        found = _max_of(node)
        if found is not None:
            taken.setdefault(*found)
    if not taken:
        return None
    for statement in walk(backward):
        if not isinstance(statement, ast.Assign):
            continue
        for node in walk(statement.value):
            if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
                continue
            for one, other in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
                found = _max_of(other)
                if found is None or ast.unparse(one) != found[0] or found[0] not in taken:
                    continue
                if found[1] != taken[found[0]] and not (found[1].startswith("-") or taken[found[0]].startswith("-")):
                    return MaskAxis(statement.lineno, found[0], found[1], taken[found[0]], ast.unparse(statement))
    return None


def _max_of(node: ast.AST) -> tuple[str, str] | None:
    """(array, axis) of `array.max(axis=a)` or `np.max(array, axis=a)` with a constant axis, the array a name or an attribute (`self.xr`)."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or node.func.attr not in _MAX:
        return None
    axis = next((k.value for k in node.keywords if k.arg == "axis"), None)
    if isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy"):
        array = node.args[0] if node.args else None
        axis = axis if axis is not None else (node.args[1] if len(node.args) > 1 else None)
    else:
        array = node.func.value
        axis = axis if axis is not None else (node.args[0] if node.args else None)
    if not isinstance(array, (ast.Name, ast.Attribute)) or axis is None:
        return None
    if isinstance(axis, ast.UnaryOp) and isinstance(axis.op, ast.USub) and isinstance(axis.operand, ast.Constant):
        return ast.unparse(array), f"-{axis.operand.value}"
    if isinstance(axis, ast.Constant) and isinstance(axis.value, int):
        return ast.unparse(array), str(axis.value)
    return None


def step_mask_axis(tree: ast.AST, statement: ast.stmt, before: list[ast.stmt]) -> MaskAxis | None:
    """The mask a training step's statement reads (`da = mask * dpooled[:, :, None]`), made by an earlier statement of
    the pass as `mask = (a == a.max(axis=1, keepdims=True))`, when every other max the file takes of that array
    (`pooled = a.max(axis=2)` in the forward function the pass calls) is over another axis; None otherwise."""
    read = _loaded(statement)
    own = {t.id for t in getattr(statement, "targets", ()) if isinstance(t, ast.Name)}
    for earlier in reversed(before):
        if not isinstance(earlier, ast.Assign) or len(earlier.targets) != 1 or not isinstance(earlier.targets[0], ast.Name):
            continue
        if earlier.targets[0].id not in read:
            continue
        read.discard(earlier.targets[0].id)  # the last binding before the statement is the one it reads
        if earlier.targets[0].id in own:  # `d_feats = hit * d_peak[:, None, :]` then `d_feats = d_feats * (feats > 0)`: what it read
            read |= _loaded(earlier)
        written = _compared_max(earlier)
        if written is None:
            continue
        others = {
            found[1] for node in walk(tree) if not _inside(node, earlier)
            and (found := _max_of(node)) is not None and found[0] == written[0]
        }  # fmt: skip
        if len(others) == 1 and written[1] not in others:
            (forward,) = others
            if not (forward.startswith("-") or written[1].startswith("-")):
                return MaskAxis(earlier.lineno, written[0], written[1], forward, ast.unparse(earlier))
    return None


def _compared_max(statement: ast.Assign) -> tuple[str, str] | None:
    """(array, axis) of `array == array.max(axis=a)` in the statement's value."""
    for node in walk(statement.value):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        for one, other in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
            found = _max_of(other)
            if found is not None and ast.unparse(one) == found[0]:
                return found
    return None


def _inside(node: ast.AST, statement: ast.stmt) -> bool:
    line = getattr(node, "lineno", None)
    return line is not None and statement.lineno <= line <= (statement.end_lineno or statement.lineno)


def _loaded(statement: ast.stmt) -> set[str]:
    return {n.id for n in walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
