"""Where an adaptive step an update adds by one name is made, and what its square roots read.

AdaDelta writes its step on a line of its own and adds it by name (`dx = -np.sqrt(Edx2 + eps) /
np.sqrt(Eg2 + eps) * g`, then `params[key] += dx`): `steps._rooted_definition` reads that line as
the step's definition. `defined_step` gives that definition for an update, and the lines that read
the step after it (`Edx2 = rho * Edx2 + (1 - rho) * dx * dx`), so a number that grows past the float
range on one of them, or on a statement before it that sets what it reads (the running average of the
gradient's square), can be traced to the line that makes the step. It also says whether a square
root the step multiplies by reads the running average of the gradient's square, which every adaptive
method divides by (RMSProp, Adam, AdaGrad, AdaDelta): the ratio written upside down.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class DefinedStep:
    name: str  # the step's name (`dx`)
    line: int  # the line that defines it
    text: str  # that statement, as written
    update: int  # the update's line (`params[key] += dx`)
    readers: tuple[int, ...]  # lines after the definition, in its function, that read the step (the update among them)
    inverted: tuple[str, int] | None = None  # (the average a numerator's root reads, the line that averages the gradient's square into it)
    feeding: tuple[tuple[int, str], ...] = ()  # (line, target) of the statements before it, in its function, that set what it reads


def defined_step(tree: ast.Module, update_line: int, gradient: str | None) -> DefinedStep | None:
    """The definition of the step the update at `update_line` adds by one name, when it takes a square
    root (`steps._rooted_definition`); None otherwise. `gradient` is the gradient behind the step (`g`)."""
    from backprop_doctor.static.steps import _rooted_definition, _scope_of, _step_of

    stmt = next((s for s in walk(tree) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno == update_line), None)
    found = _step_of(stmt) if stmt is not None else None
    if found is None or not isinstance(found[0], ast.Name):
        return None
    made = _rooted_definition(found[0], stmt, tree)
    if made is None:
        return None
    name = found[0].id
    scope = _scope_of(tree, update_line)
    readers = sorted(
        {
            s.lineno for s in walk(scope)
            if isinstance(s, ast.stmt) and not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.With))
            and s.lineno > made.lineno and any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(s))
        }
    )  # fmt: skip
    inverted = _gradient_square_above(made.value, scope, gradient) if gradient else None
    read = {ast.unparse(n) for n in ast.walk(made.value) if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript))}
    feeding = sorted(
        {
            (s.lineno, ast.unparse(t)) for s in walk(scope) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno < made.lineno
            for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) if ast.unparse(t) in read
        }
    )  # fmt: skip
    return DefinedStep(name, made.lineno, ast.unparse(made), update_line, tuple(readers), inverted, tuple(feeding))


def _gradient_square_above(value: ast.expr, scope: ast.AST, gradient: str) -> tuple[str, int] | None:
    """(the average, the line that averages `gradient`'s square into it) when a square root the step
    multiplies by (not one it divides by) reads that average."""
    for root in _roots(value, above=True):
        for node in ast.walk(root):
            if not isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
                continue
            text = ast.unparse(node)
            line = _averages_square(scope, text, gradient)
            if line is not None:
                return text, line
    return None


def _roots(node: ast.expr, above: bool) -> list[ast.expr]:
    """The arguments of the `sqrt` calls of a product or quotient on the side `above` (the numerator)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _roots(node.operand, above)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _roots(node.left, above) + _roots(node.right, above)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _roots(node.left, above) + _roots(node.right, not above)
    if isinstance(node, ast.Call) and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "sqrt" and node.args:
        return [node.args[0]] if above else []
    return []


def _averages_square(scope: ast.AST, target: str, gradient: str) -> int | None:
    """The line of an assignment to `target` in `scope` whose value holds `gradient`'s square
    (`g * g`, `g ** 2`, `np.square(g)`), a running average of it or a sum."""
    for stmt in walk(scope):
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AugAssign):
            targets = [stmt.target]
        else:
            continue
        if not any(ast.unparse(t) == target for t in targets):
            continue
        if any(_square_of(n, gradient) for n in ast.walk(stmt.value)):
            return stmt.lineno
    return None


def _square_of(node: ast.AST, gradient: str) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return sum(1 for f in _factors(node) if ast.unparse(f) == gradient) >= 2  # `(1 - rho) * g * g`
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return ast.unparse(node.left) == gradient and isinstance(node.right, ast.Constant) and node.right.value == 2
    if isinstance(node, ast.Call) and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "square" and node.args:
        return ast.unparse(node.args[0]) == gradient
    return False


def _factors(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


__all__ = ["DefinedStep", "defined_step"]
