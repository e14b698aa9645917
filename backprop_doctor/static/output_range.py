"""The squashing output a step's loss reads, and where the targets it is compared with come from.

`out = sigmoid(a1 @ W2 + b2)` then `loss = np.mean((out - y) ** 2)`: the loss compares a sigmoid's output,
which lies in (0, 1), with `y`. `squashed_output` finds such an output among the names a loss reads (a
sigmoid or tanh applied in the step, or a function of the file that returns a sigmoid's output);
`data_line` the line that last binds the targets before the training loop (following a batch
`yb = y[idx]` the step draws back to `y`). `replay.reach` reads the values; nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.derivatives import activation_applied
from backprop_doctor.static.outputs import _ends_in
from backprop_doctor.static.tree import walk

RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


@dataclass(frozen=True)
class Squashed:
    name: str  # `out`
    kind: str  # "sigmoid", "tanh"
    line: int  # where the step binds it


def _bindings(statements: tuple[ast.stmt, ...] | list[ast.stmt], name: str) -> list[ast.Assign]:
    return [
        n for s in statements for n in walk(s)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
    ]  # fmt: skip


def _bound_values(statements: tuple[ast.stmt, ...] | list[ast.stmt], name: str) -> list[tuple[int, ast.expr]]:
    """(line, value) of each assignment of `name`, also as one element of a tuple (`xb, yb = X[i], y[i]`)."""
    found = [(n.lineno, n.value) for n in _bindings(statements, name)]
    for s in statements:
        for n in walk(s):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Tuple) and isinstance(n.value, ast.Tuple):
                pairs = zip(n.targets[0].elts, n.value.elts) if len(n.targets[0].elts) == len(n.value.elts) else ()
                found += [(n.lineno, value) for target, value in pairs if isinstance(target, ast.Name) and target.id == name]
    return found


def squashed_output(tree: ast.Module, prefix: tuple[ast.stmt, ...], names: set[str]) -> Squashed | None:
    """The one name of `names` the step's statements last bind to a sigmoid's or tanh's output."""
    functions = {n.name: n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = []
    for name in sorted(names):
        bound = _bindings(prefix, name)
        if not bound:
            continue
        last = max(bound, key=lambda n: n.lineno)
        applied = activation_applied(tree, last.lineno)
        kind = applied.kind if applied is not None and applied.output == name else None
        if kind is None and isinstance(last.value, ast.Call):
            callee = last.value.func.attr if isinstance(last.value.func, ast.Attribute) else getattr(last.value.func, "id", "")
            ended = _ends_in(functions[callee]) if callee in functions else None
            kind = ended[0] if ended is not None else None
        if kind is None and _inline_sigmoid(last.value):
            kind = "sigmoid"  # `A2 = 1 / (1 + np.exp(-Z2))`, written out where it is used
        if kind in RANGES:
            found.append(Squashed(name, kind, last.lineno))
    return found[0] if len(found) == 1 else None


def _inline_sigmoid(value: ast.expr | None) -> bool:
    """`1 / (1 + np.exp(-z))`: a sigmoid written out."""
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div) and isinstance(value.left, ast.Constant) and value.left.value in (1, 1.0)):
        return False
    right = value.right
    return (
        isinstance(right, ast.BinOp) and isinstance(right.op, ast.Add)
        and any(isinstance(n, ast.Call) and getattr(n.func, "attr", getattr(n.func, "id", "")) == "exp" for n in ast.walk(right))
    )  # fmt: skip


def data_line(tree: ast.Module, prefix: tuple[ast.stmt, ...], name: str, loop_line: int, function_line: int) -> tuple[str, int | None]:
    """(the data array's name, the line that last binds it before the loop) for the targets `name`: a
    batch the step draws (`yb = y[idx]`, `yb = y[i:i + 32]`) is followed back to `y`."""
    bound = _bound_values(prefix, name)
    if bound:
        value = max(bound, key=lambda b: b[0])[1]
        while isinstance(value, ast.Subscript):
            value = value.value
        if not isinstance(value, ast.Name):
            return name, None
        name = value.id
    scope: ast.AST = tree
    if function_line:
        scope = next((n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno == function_line), tree)
    outer = [s for s in walk(scope) if isinstance(s, ast.stmt) and s.lineno < loop_line]
    lines = [n.lineno for n in _bindings(outer, name) if n.lineno < loop_line]
    return name, max(lines) if lines else None


__all__ = ["RANGES", "Squashed", "data_line", "squashed_output"]
