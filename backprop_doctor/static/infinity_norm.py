"""Adamax's infinity-norm accumulator in the source: `u = np.maximum(beta2 * u, np.abs(g))`.

Adamax (Kingma & Ba, section 7.1) keeps, beside Adam's first moment, the running maximum of the
gradient's size, decayed at each update, and divides the first moment by it:

    m = beta1 * m + (1 - beta1) * g
    u = np.maximum(beta2 * u, np.abs(g))
    p -= lr / (1 - beta1 ** t) * m / (u + eps)

`accumulators` finds the statements that set a name to the larger of its own decayed value and
something else (the running maximum), and says whether that something is a size (an absolute value,
a square, a root, a norm) or, left as it is, a signed value: a gradient's negative elements then never
raise the maximum, which stays at 0, and the step divides by eps alone. `divides_a_step` tells whether
an update of the file divides by the accumulator (an adaptive step, no multiple of the gradient).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_MAXIMUM = frozenset({"maximum", "max", "fmax"})
_SIZES = frozenset({"abs", "absolute", "fabs", "sqrt", "square", "norm", "exp"})


@dataclass(frozen=True)
class Accumulator:
    """`u = np.maximum(beta2 * u, g)`: the line, the name it keeps, the other operand and whether that is a size."""

    line: int
    target: str  # `u`, `self.u[k]`, `config["u"]`
    statement: str
    operand: str  # `g`, `np.abs(g)`
    sized: bool  # the operand cannot be negative


def accumulators(tree: ast.AST) -> list[Accumulator]:
    """Every running maximum of the tree: `X = np.maximum(decay * X, other)` (either order of the operands,
    `max`, `fmax`), `decay * X` a product of the name itself by something else."""
    found = []
    for stmt in walk(tree):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
            continue
        call = stmt.value
        callee = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id if isinstance(call.func, ast.Name) else ""
        if callee not in _MAXIMUM or len(call.args) != 2 or call.keywords:
            continue
        target = ast.unparse(stmt.targets[0])
        decayed = [a for a in call.args if _decayed(a, target)]
        if len(decayed) != 1:
            continue
        other = call.args[1] if decayed[0] is call.args[0] else call.args[0]
        if target in {ast.unparse(n) for n in walk(other)}:
            continue
        found.append(Accumulator(stmt.lineno, target, ast.unparse(stmt), ast.unparse(other), _sized(other, tree, stmt)))
    return found


def unsigned(tree: ast.AST) -> list[Accumulator]:
    """The running maxima of `accumulators` that compare a signed value, when an update divides by them and a
    first moment averages that same value (`m = beta1 * m + (1 - beta1) * g` beside `u = np.maximum(beta2 * u, g)`):
    Adamax's accumulator without the gradient's absolute value."""
    return [a for a in accumulators(tree) if not a.sized and divides_a_step(a, tree) and _averaged(a, tree)]


def _averaged(accumulator: Accumulator, tree: ast.AST) -> bool:
    """Whether another statement keeps a running average of the accumulator's operand: `m = b1 * m + (1 - b1) * g`,
    a sum of two terms, one reading its own target, the other the operand."""
    for stmt in walk(tree):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Add)):
            continue
        target = ast.unparse(stmt.targets[0])
        if target == accumulator.target:
            continue
        sides = [{ast.unparse(n) for n in walk(side)} for side in (stmt.value.left, stmt.value.right)]
        if any(target in one and accumulator.operand in other for one, other in (sides, sides[::-1])):
            return True
    return False


def _decayed(node: ast.expr, target: str) -> bool:
    """`beta2 * u`, `u * self.beta2`: the name itself times another factor."""
    return (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
        and (ast.unparse(node.left) == target) != (ast.unparse(node.right) == target)
    )  # fmt: skip


def _sized(node: ast.expr, tree: ast.AST, stmt: ast.stmt) -> bool:
    """Whether `node` cannot be negative: an absolute value, a square, a root, a norm, a product of a value by
    itself, or a name bound to one of those in the same scope before `stmt` (`a = np.abs(g)`, then
    `np.maximum(b2 * u, a)`); a number is left alone (a floor, not a gradient)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
        return callee in _SIZES
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
            return True
        if isinstance(node.op, ast.Mult) and ast.unparse(node.left) == ast.unparse(node.right):
            return True
        if isinstance(node.op, (ast.Add, ast.Mult)):  # `abs(g) + eps`, `(1 - b) * abs(g)`: sizes and settings
            return all(_sized(side, tree, stmt) or _setting(side) for side in (node.left, node.right))
        return False
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        text = ast.unparse(node)
        bound = [
            d for d in walk(tree)
            if isinstance(d, ast.Assign) and d.lineno < stmt.lineno and len(d.targets) == 1 and ast.unparse(d.targets[0]) == text
        ]  # fmt: skip
        if bound:
            last = max(bound, key=lambda d: d.lineno)
            return last is not stmt and _sized(last.value, tree, last)
    return False


def _setting(node: ast.expr) -> bool:
    """A number or a plain name (`eps`, `1 - beta2`): no array the running maximum compares."""
    return all(isinstance(n, (ast.Constant, ast.Name, ast.Attribute, ast.BinOp, ast.operator, ast.expr_context, ast.unaryop, ast.UnaryOp)) for n in walk(node))


def divides_a_step(accumulator: Accumulator, tree: ast.AST) -> bool:
    """Whether some expression of the tree divides by the accumulator (`m / (u + eps)`, `m / u`)."""
    for node in walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if accumulator.target in {ast.unparse(n) for n in walk(node.right)}:
                return True
    return False
