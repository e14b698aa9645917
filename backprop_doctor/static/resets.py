"""Statements of a training step's update that empty an array: `acc[k][...] = 0.0`, `g.fill(0)`, `g = np.zeros_like(g)`.

`zeroing_statements(tree, step)` reads the loop body's update statements (`if step % k == 0:` and what
it holds) and the bodies of the file's functions and methods they call by name (`net.apply(lr, k)`),
for `checks/step_gradient_mismatch.py`: a step whose update reads a sum that is never emptied, while
one of these zeroes another array (the micro-batch's gradient, a loop variable rebound to zeros).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backprop_doctor.static.tree import walk

if TYPE_CHECKING:
    from backprop_doctor.static.steps import TrainingStep

_ZEROS = ("zeros", "zeros_like")


def _zero(node: ast.expr) -> bool:
    """`0`, `0.0`, `np.zeros(...)`, `np.zeros_like(...)`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value == 0
    if isinstance(node, ast.Call):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return called in _ZEROS
    return False


def _zeroing(node: ast.AST) -> str | None:
    """The target a statement sets to zero, as written; None for any other statement."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and _zero(node.value):
        return ast.unparse(node.targets[0])
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Mult) and _zero(node.value):
        return ast.unparse(node.target)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
        call = node.value
        if call.func.attr == "fill" and len(call.args) == 1 and _zero(call.args[0]):
            return ast.unparse(call.func.value)
    return None


def zeroing_statements(tree: ast.Module | None, step: TrainingStep) -> list[tuple[int, str]]:
    """(line, target) of each statement of the step's update, or of a function of the file it calls by
    name, that sets an array or a name to zeros, in the order of their lines."""
    loop = step.loop
    if tree is None or not isinstance(loop, (ast.For, ast.While)):
        return []
    updating = [s for s in loop.body if step.update_line <= s.lineno <= step.update_end_line]
    called = {
        n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id
        for s in updating for n in walk(s) if isinstance(n, ast.Call) and isinstance(n.func, (ast.Attribute, ast.Name))
    }  # fmt: skip
    scopes: list[ast.AST] = [*updating, *(f for f in walk(tree) if isinstance(f, ast.FunctionDef) and f.name in called)]
    found = {(n.lineno, target) for scope in scopes for n in walk(scope) if (target := _zeroing(n)) is not None}
    return sorted(found)
