"""Where a program writes the scale its weights are drawn at: the number that multiplies the draw.

    self.Ws = [rng.randn(a, b) * init_scale for a, b in ...]     # inside `def __init__(self, sizes, init_scale=0.1)`
    model = MLP([10, 64, 64, 64, 2], init_scale=0.01)             # the number, at the call

`scale_written` reads the statement that draws the weights (`replay.init_scale.init_lines` finds it) and
follows the factor it multiplies the draw by: a number written there, a name assigned a number before,
or a parameter of the function (of the class, for `__init__`) the draw is made in, given as a number by
a call of it, or else its default. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_DRAWS = ("randn", "normal", "uniform", "rand", "standard_normal", "random")


@dataclass(frozen=True)
class ScaleWritten:
    line: int  # where the number is written
    text: str  # as written there: `init_scale=0.01`, `0.01`, `scale = 0.01`
    value: float


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in walk(tree) for child in ast.iter_child_nodes(node)}


def _draw(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] in _DRAWS


def _number(node: ast.AST | None) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def _factor(statement: ast.stmt) -> ast.expr | None:
    """The factor `draw * f` (or `f * draw`) multiplies a random draw by in the statement, or the scale
    `normal(0, s, shape)` draws at."""
    for node in walk(statement):
        if isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] == "normal":
            scale = next((k.value for k in node.keywords if k.arg == "scale"), node.args[1] if len(node.args) >= 2 else None)
            if scale is not None:
                return scale
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            if _draw(node.left) and not any(_draw(n) for n in walk(node.right)):
                return node.right
            if _draw(node.right) and not any(_draw(n) for n in walk(node.left)):
                return node.left
    return None


def scale_written(tree: ast.Module | None, line: int) -> ScaleWritten | None:
    """The number the weights drawn at `line` are scaled by, where the program writes it; None when the
    draw is not multiplied by one this can follow."""
    if tree is None:
        return None
    statement = next((n for n in walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.lineno == line), None)
    factor = _factor(statement) if statement is not None else None
    if factor is None:
        return None
    value = _number(factor)
    if value is not None:
        return ScaleWritten(line, ast.unparse(factor), value)
    if not isinstance(factor, ast.Name):
        return None
    name = factor.id
    parents = _parents(tree)
    function: ast.AST | None = statement
    while function is not None and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = parents.get(function)
    if function is None:
        return _assigned(tree, name, line)
    arguments = function.args  # type: ignore[union-attr]
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if name not in positional and name not in [a.arg for a in arguments.kwonlyargs]:
        return _assigned(function, name, line)
    callee = function.name  # type: ignore[union-attr]
    owner = parents.get(function)
    if callee == "__init__" and isinstance(owner, ast.ClassDef):
        callee, positional = owner.name, positional[1:]  # `MLP(sizes, 0.01)`: `self` is not passed
    elif isinstance(owner, ast.ClassDef):
        positional = positional[1:]
    for call in walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, (ast.Name, ast.Attribute))):
            continue
        if (call.func.id if isinstance(call.func, ast.Name) else call.func.attr) != callee:
            continue
        given = next((k.value for k in call.keywords if k.arg == name), None)
        text = f"{name}={ast.unparse(given)}" if given is not None else None
        if given is None and name in positional and positional.index(name) < len(call.args):
            given = call.args[positional.index(name)]
            text = ast.unparse(given)
        number = _number(given)
        if number is not None and text is not None:
            return ScaleWritten(call.lineno, text, number)
    defaults = dict(zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults)) if arguments.defaults else {}
    defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None})
    number = _number(defaults.get(name))
    if number is not None:
        return ScaleWritten(function.lineno, f"{name}={ast.unparse(defaults[name])}", number)  # type: ignore[union-attr]
    return None


def _assigned(scope: ast.AST, name: str, before: int) -> ScaleWritten | None:
    """`scale = 0.01`, the last assignment of a number to `name` before line `before` in `scope`."""
    found = None
    for node in walk(scope):
        if isinstance(node, ast.Assign) and node.lineno < before and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == name and _number(node.value) is not None:
                if found is None or node.lineno > found.line:
                    found = ScaleWritten(node.lineno, ast.unparse(node), _number(node.value))  # type: ignore[arg-type]
    return found


__all__ = ["ScaleWritten", "scale_written"]
