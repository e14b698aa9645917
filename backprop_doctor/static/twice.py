"""An output function applied to what is already its output: `probs = softmax(self.predict_proba(X))`
with `predict_proba` returning `softmax(...)`, `p = sigmoid(sigmoid(z))`, `a = sigmoid(h)` with
`h = sigmoid(z)` the line before.

The loss is then computed from the function applied twice, while the gradient a program writes for it
(`probs - onehot`, `p - y`) is the gradient through one application: every update is somewhat off,
and what is wrong is the forward line. `applied_twice` reads it off the tree, on the lines given (the
lines one pass of the training step runs); nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.outputs import _ends_in, _output_call
from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class AppliedTwice:
    """`probs = softmax(self.predict_proba(X))` (line 28): softmax of `self.predict_proba(X)`, already
    softmax's output (line 24)."""

    line: int
    statement: str  # the statement as written
    output: str  # "softmax", "sigmoid"
    call: str  # `softmax(self.predict_proba(X))`
    given: str  # `self.predict_proba(X)`
    made_line: int  # where what it is given was already made that function's output
    fixed: str  # the statement with the outer call replaced by its argument


def _functions(tree: ast.AST) -> dict[str, list[Function]]:
    found: dict[str, list[Function]] = {}
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, []).append(node)
    return found


def _scopes(tree: ast.AST) -> dict[int, ast.AST]:
    """The innermost function holding each statement's line (the module for the top level)."""
    scope: dict[int, ast.AST] = {}

    def visit(node: ast.AST, owner: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else owner
            if isinstance(child, ast.stmt) and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.setdefault(child.lineno, owner)
            visit(child, inner)

    visit(tree, tree)
    return scope


def _made_by(value: ast.expr, output: str, functions: dict[str, list[Function]]) -> int | None:
    """The line where `value` was made `output`'s output: an output call itself, or a call of the file's
    one function of that name whose return is one."""
    if _output_call(value) == output:
        return value.lineno
    if isinstance(value, ast.Call):
        name = value.func.attr if isinstance(value.func, ast.Attribute) else value.func.id if isinstance(value.func, ast.Name) else None
        defined = functions.get(name or "", [])
        if len(defined) == 1 and (ended := _ends_in(defined[0])) is not None and ended[0] == output:
            return ended[1]
    return None


def _bound_before(scope: ast.AST, name: str, before: int) -> ast.Assign | None:
    found = [
        n for n in walk(scope)
        if isinstance(n, ast.Assign) and n.lineno < before and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
    ]  # fmt: skip
    return max(found, key=lambda n: n.lineno) if found else None


def applied_twice(tree: ast.AST | None, lines: set[int]) -> list[AppliedTwice]:
    """Each statement on `lines` that applies softmax or sigmoid to a value already that function's
    output (a call of it, a function of the file that returns one, a name last bound to either)."""
    if tree is None:
        return []
    functions = _functions(tree)
    scopes = _scopes(tree)
    found = []
    for statement in walk(tree):
        if not isinstance(statement, (ast.Assign, ast.Return)) or statement.lineno not in lines:
            continue
        for call in [statement.value]:  # the value itself: `sigmoid(a) * (1 - sigmoid(a))` is a derivative (`derivatives.reapplied`)
            output = _output_call(call) if isinstance(call, ast.Call) and len(call.args) == 1 and not call.keywords else None
            if output is None:
                continue
            given = call.args[0]
            made = _made_by(given, output, functions)
            if made is None and isinstance(given, ast.Name):
                bound = _bound_before(scopes.get(statement.lineno, tree), given.id, statement.lineno)
                made = _made_by(bound.value, output, functions) if bound is not None else None
                made = bound.lineno if made is not None and bound is not None else None
            if made is None:
                continue
            text = ast.unparse(statement)
            fixed = text.replace(ast.unparse(call), ast.unparse(given), 1)
            found.append(AppliedTwice(statement.lineno, text, output, ast.unparse(call), ast.unparse(given), made, fixed))
    return sorted(found, key=lambda t: t.line)


__all__ = ["AppliedTwice", "applied_twice"]
