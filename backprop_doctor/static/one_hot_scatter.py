"""One-hot targets built by setting whole columns: `Y[:, labels] = 1`.

    def one_hot(labels, num_classes):
        Y = np.zeros((len(labels), num_classes))
        Y[:, labels] = 1                       # every row gets a 1 at every label of the batch
        return Y
    ...
    Y = one_hot(y, P.shape[1])
    dlogits = (P - Y) / N                      # the gradient of a cross-entropy against the wrong targets

`scattered_one_hot(tree, line)`: when the statement at `line` subtracts a name (`P - Y`) whose last binding
before it, in the same function, is an array of several rows that a statement sets to 1 at `[:, labels]`,
either there or inside the file's function that binds it (`Y = one_hot(y, K)`), that statement, with
the row-by-row fix (`Y[np.arange(len(labels)), labels] = 1`). A one-row array (`y_vec = np.zeros((1,
K))`) and a column index that a loop walks (`for k in range(K): Y[:, k] = ...`) are set aside: there a
whole column is what is meant. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ScatteredOneHot:
    line: int  # `Y[:, labels] = 1`
    text: str  # that statement, unparsed
    target: str  # the name the gradient's statement subtracts (`Y`)
    bound_at: int  # where that name is bound in the gradient's function (the call of the helper, or the zeros)
    fix: str  # `Y[np.arange(len(labels)), labels] = 1`


def scattered_one_hot(tree: ast.Module | None, line: int) -> ScatteredOneHot | None:
    if tree is None:
        return None
    function = _function_holding(tree, line)
    if function is None:
        return None
    statement = next((s for s in walk(function) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno == line), None)
    if statement is None:
        return None
    subtracted = [
        side.id for n in walk(statement.value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub)
        for side in (n.left, n.right) if isinstance(side, ast.Name)
    ]  # fmt: skip
    for name in dict.fromkeys(subtracted):
        bindings = sorted((s for s in walk(function) if isinstance(s, ast.Assign) and s.lineno < line and _binds(s, name)), key=lambda s: s.lineno)
        if not bindings:
            continue
        bound = bindings[-1]
        scatter = _scatter_in(function, name, bound.lineno, line)
        if scatter is None and isinstance(bound.value, ast.Call) and isinstance(bound.value.func, ast.Name):
            helper = next((f for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == bound.value.func.id), None)
            returned = _returned_name(helper) if helper is not None else None
            scatter = _scatter_in(helper, returned, 0, helper.end_lineno or helper.lineno) if helper is not None and returned else None
        if scatter is not None:
            stmt, array, index, value = scatter
            fix = f"{array}[np.arange(len({index})), {index}] = {value}"
            return ScatteredOneHot(stmt.lineno, ast.unparse(stmt), name, bound.lineno, fix)
    return None


def _function_holding(tree: ast.Module, line: int) -> FunctionNode | None:
    holding = [
        f for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.lineno <= line <= (f.end_lineno or f.lineno)
    ]  # fmt: skip
    return max(holding, key=lambda f: f.lineno) if holding else None


def _binds(statement: ast.Assign, name: str) -> bool:
    return any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)


def _returned_name(function: FunctionNode) -> str | None:
    names = {n.value.id for n in walk(function) if isinstance(n, ast.Return) and isinstance(n.value, ast.Name)}
    return next(iter(names)) if len(names) == 1 else None


def _scatter_in(function: FunctionNode, name: str, after: int, before: int) -> tuple[ast.Assign, str, str, str] | None:
    """`name[:, index] = 1` between the lines `after` and `before` of `function`, on an array that `function`
    makes with more than one row, and with an index no loop of `function` walks: (statement, array, index, value)."""
    looped = {n.id for f in walk(function) if isinstance(f, (ast.For, ast.comprehension)) for n in walk(f.target) if isinstance(n, ast.Name)}
    made = [s for s in walk(function) if isinstance(s, ast.Assign) and _binds(s, name) and s.lineno < before]
    if not made or not _several_rows(max(made, key=lambda s: s.lineno).value):
        return None
    for s in walk(function):
        if not (isinstance(s, ast.Assign) and after <= s.lineno < before and len(s.targets) == 1):
            continue
        target = s.targets[0]
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name):
            continue
        index = target.slice
        if not (isinstance(index, ast.Tuple) and len(index.elts) == 2):
            continue
        rows, columns = index.elts
        whole = isinstance(rows, ast.Slice) and rows.lower is None and rows.upper is None and rows.step is None
        if not whole or not isinstance(columns, (ast.Name, ast.Attribute)) or _last(columns) in looped:
            continue
        if isinstance(s.value, ast.Constant) and s.value.value in (1, 1.0, True):
            return s, name, ast.unparse(columns), ast.unparse(s.value)
    return None


def _several_rows(value: ast.expr) -> bool:
    """`np.zeros((len(labels), K))`, `np.zeros((n, K))`: an array made with a first size other than the number 1."""
    if not (isinstance(value, ast.Call) and value.args):
        return False
    name = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
    if name not in ("zeros", "full", "empty"):
        return False
    shape = value.args[0]
    if not (isinstance(shape, ast.Tuple) and len(shape.elts) == 2):
        return False
    first = shape.elts[0]
    return not (isinstance(first, ast.Constant) and first.value == 1)


def _last(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
