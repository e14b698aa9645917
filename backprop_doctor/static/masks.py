"""A dropout mask the forward pass applies and the backward pass leaves out.

`mask = (np.random.rand(*h.shape) < p) / p`, then `hd = h * mask`: the next layer reads `hd`, so the
gradient that comes back through its weights (`ds @ W2.T`) is the gradient of `hd`, and the gradient
of `h` is that times `mask`. A backward that never reads `mask` again has left it out.
`left_out_mask` finds such a mask for the forward value a wrong adjoint belongs to; nothing here runs
user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class LeftOutMask:
    """`hd = h * mask` (line 13), `mask` drawn at line 12 and read nowhere after the loss."""

    mask: str
    drawn: int  # where the mask is drawn
    applied: str  # "hd"
    applied_line: int


def left_out_mask(prefix: tuple[ast.stmt, ...], forward: str, loss_line: int | None) -> LeftOutMask | None:
    """A random mask the pass multiplies `forward` by (`hd = h * mask`) and never reads again after the
    loss line (the backward part of the pass)."""
    drawn = {
        t.id: s.lineno for s in prefix if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)
        and any(isinstance(n, ast.Attribute) and n.attr in ("rand", "random", "binomial", "uniform", "choice") for n in walk(s.value))
    }  # fmt: skip
    for stmt in prefix:
        value = getattr(stmt, "value", None)
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult)):
            continue
        sides = [s.id for s in (value.left, value.right) if isinstance(s, ast.Name)]
        if len(sides) != 2 or forward not in sides:
            continue
        mask = sides[1] if sides[0] == forward else sides[0]
        if mask not in drawn:
            continue
        after = loss_line if loss_line is not None else stmt.lineno
        read_later = any(
            isinstance(n, ast.Name) and n.id == mask and isinstance(n.ctx, ast.Load)
            for s in prefix if s.lineno > after for n in walk(s)
        )  # fmt: skip
        if not read_later:
            return LeftOutMask(mask, drawn[mask], stmt.targets[0].id, stmt.lineno)
    return None


def self_masked(statement: ast.stmt) -> str | None:
    """The name a backward statement masks by its own sign, as a ReLU's derivative would by the ReLU's
    input (`dA[dA <= 0] = 0`, `dh *= dh > 0`, `dh = dh * (dh > 0)`, `dh = np.maximum(dh, 0)`): the
    chain rule never zeroes a gradient where the gradient itself is negative. None for anything else."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AugAssign):
        target, value = statement.target, statement.value
    else:
        return None
    subscripted = isinstance(target, ast.Subscript)
    root = target.value if subscripted else target
    if not isinstance(root, ast.Name):
        return None
    name = root.id

    def against_zero(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name) and node.left.id == name
            and isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value == 0
        )  # fmt: skip

    if subscripted:  # `dA[dA <= 0] = 0`
        zero = isinstance(value, ast.Constant) and value.value == 0
        return name if zero and against_zero(target.slice) and isinstance(target.slice.ops[0], (ast.LtE, ast.Lt)) else None
    if any(against_zero(n) and isinstance(n.ops[0], (ast.Gt, ast.GtE)) for n in walk(value)):
        return name  # `dh *= dh > 0`, `dh = dh * (dh > 0)`, `np.where(dh > 0, dh, 0)`
    if isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] == "maximum" and len(value.args) == 2:
        names = {a.id for a in value.args if isinstance(a, ast.Name)}
        zeros = [a for a in value.args if isinstance(a, ast.Constant) and a.value == 0]
        return name if names == {name} and zeros else None  # `dh = np.maximum(dh, 0)`
    return None
