"""A gradient computed once, before the loop whose updates apply it at every pass.

    loss, grads = forward_backward(params, X, y)
    for epoch in range(300):
        for k in params:
            params[k] -= lr * grads[k]           # the same grads every epoch
        loss, _ = forward_backward(params, X, y)  # the new gradient thrown away

The step finder reads such a program as one step made once (`TrainingStep.loopless`: the gradient
and the updates share no loop), and the replay measures that one step, which is right. `before_loop`
finds the loop that repeats the updates (one whose variable the update does not read: `epoch`,
not the `k` of `for k in params`) and the gradient it applies, bound before that loop and never
inside it. A loop that may refill the gradient in place (`backward(grads)`, `grads.update(...)`,
`grads[k] = ...`, a bare call of the function that made it) is not one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class ComputedOnce:
    loop_line: int  # the loop that repeats the updates
    name: str  # the gradient's name (`grads`)
    bound_line: int  # where it is bound, before the loop
    thrown: tuple[int, str] | None  # (line, statement) in the loop that makes a new one and binds it to `_`


def before_loop(tree: ast.Module, update_lines: list[int], gradients: list[str]) -> ComputedOnce | None:
    """The loop around the updates at `update_lines` (statements of this file) that repeats them while
    the gradient they read (`gradients`: the expressions, `grads[k]`) is bound only before it."""
    roots = {r for g in gradients if (r := gradient_root(g)) is not None}
    if not roots or not update_lines:
        return None
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    update = next((n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno == update_lines[0]), None)
    if update is None:
        return None
    read = {n.id for n in walk(update) if isinstance(n, ast.Name)}
    loops, node = [], parents.get(id(update))
    while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(node, ast.While) or (isinstance(node, ast.For) and not ({n.id for n in walk(node.target) if isinstance(n, ast.Name)} & read)):
            loops.append(node)
        node = parents.get(id(node))
    if not loops:
        return None
    loop = loops[-1]  # the outermost that repeats them
    scope = node if node is not None else tree
    for name in sorted(roots):
        if _bound_in(loop, name) or _refilled_in(loop, name):
            continue
        bound = bound_before(scope, [name], loop.lineno)
        if bound is None:
            continue
        if isinstance(bound.value, ast.Call) and _called_bare(loop, ast.unparse(bound.value.func)):
            continue  # the loop calls it again without binding what it returns: it may fill the gradient in place
        return ComputedOnce(loop.lineno, name, bound.lineno, thrown_away(loop, bound))
    return None


def gradient_root(expression: str) -> str | None:
    """`grads` of `grads["W1"]`, `grads[k]`, `self.grads[k]`'s `self` not taken: only a plain name's root."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def bound_before(scope: ast.AST, names: list[str], line: int) -> ast.Assign | None:
    """The last assignment in `scope` before `line` that binds one of `names`."""
    found = [
        n for n in walk(scope)
        if isinstance(n, ast.Assign) and n.lineno < line and any(isinstance(t, ast.Name) and t.id in names for target in n.targets for t in walk(target))
    ]  # fmt: skip
    return max(found, key=lambda n: n.lineno) if found else None


def _bound_in(loop: ast.AST, name: str) -> bool:
    for n in walk(loop):
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr)):
            targets = n.targets if isinstance(n, ast.Assign) else [getattr(n, "target", None)] if not isinstance(n, ast.With) else [i.optional_vars for i in n.items]
            if any(isinstance(t, ast.Name) and t.id == name for target in targets if target is not None for t in walk(target)):
                return True
    return False


def _refilled_in(loop: ast.AST, name: str) -> bool:
    """`grads[k] = ...`, `grads.update(...)`, `grads.fill(0)`, or `grads` handed to a call that is not the update's own."""
    for n in walk(loop):
        if isinstance(n, (ast.Assign, ast.AugAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if any(isinstance(t, (ast.Subscript, ast.Attribute)) and gradient_root(ast.unparse(t)) == name for t in targets):
                return True
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == name:
                return True
            if any(isinstance(a, ast.Name) and a.id == name for a in n.args):
                return True
    return False


def _called_bare(loop: ast.AST, func: str) -> bool:
    return any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and ast.unparse(n.value.func) == func for n in walk(loop))


def thrown_away(loop: ast.AST, before: ast.Assign) -> tuple[int, str] | None:
    """(line, statement) in `loop` that makes the same call as `before` and binds `_` (`loss, _ = model.loss(X, y)`)."""
    if not isinstance(before.value, ast.Call):
        return None
    func = ast.unparse(before.value.func)
    for n in walk(loop):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and ast.unparse(n.value.func) == func:
            if any(isinstance(t, ast.Name) and t.id == "_" for target in n.targets for t in walk(target)):
                return n.lineno, ast.unparse(n)
    return None
