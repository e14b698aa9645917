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


@dataclass(frozen=True)
class ColumnSubtracted:
    """`dscores[:, y] -= 1`: the softmax gradient's one-hot subtraction written over whole columns."""

    line: int
    text: str  # the statement, unparsed
    array: str  # `dscores`
    index: str  # `y`
    fix: str  # `dscores[np.arange(N), y] -= 1`


def column_subtracted(function: FunctionNode | None) -> ColumnSubtracted | None:
    """The statement of `function` that subtracts a number from whole columns of an array the function binds,
    at columns given by labels (`dscores[:, y] -= 1`, `d[:, labels] = d[:, labels] - 1.0`, `g[:, y] += -1`):
    every row loses 1 at the label of every sample of the batch, where the gradient of a cross-entropy wants
    one entry per row (`dscores[np.arange(N), y] -= 1`). A column index a loop of the function walks
    (`for k in range(K): d[:, k] -= ...`) and a slice are set aside: there a whole column is meant."""
    if function is None:
        return None
    looped = {n.id for f in walk(function) if isinstance(f, (ast.For, ast.comprehension)) for n in walk(f.target) if isinstance(n, ast.Name)}
    bound = {n.id for s in walk(function) if isinstance(s, ast.Assign) for t in s.targets for n in walk(t) if isinstance(n, ast.Name)}
    for s in walk(function):
        found = _column_subtraction(s)
        if found is None:
            continue
        array, columns = found
        if array not in bound or _last(columns) in looped:
            continue
        index = ast.unparse(columns)
        count = _row_count(function, s.lineno) or f"len({index})"
        target = s.targets[0] if isinstance(s, ast.Assign) else s.target
        fixed = ast.unparse(ast.Subscript(ast.Name(array), ast.Tuple([ast.parse(f"np.arange({count})", mode="eval").body, columns]), ast.Store()))
        written = ast.unparse(s).replace(ast.unparse(target), fixed)
        return ColumnSubtracted(s.lineno, ast.unparse(s), array, index, written)
    return None


def _column_subtraction(s: ast.AST) -> tuple[str, ast.expr] | None:
    """(array, column index) of `a[:, y] -= c`, `a[:, y] += -c` or `a[:, y] = a[:, y] - c`, c a positive number."""
    if isinstance(s, ast.AugAssign):
        target, value = s.target, s.value
        if isinstance(s.op, ast.Add) and isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
            value = value.operand
        elif not isinstance(s.op, ast.Sub):
            return None
    elif isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.value, ast.BinOp) and isinstance(s.value.op, ast.Sub):
        target, value = s.targets[0], s.value.right
        if ast.dump(s.value.left) != ast.dump(ast.Subscript(target.value, target.slice, ast.Load())) if isinstance(target, ast.Subscript) else True:
            return None
    else:
        return None
    if not (isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool) and value.value > 0):
        return None
    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)):
        return None
    index = target.slice
    if not (isinstance(index, ast.Tuple) and len(index.elts) == 2):
        return None
    rows, columns = index.elts
    whole = isinstance(rows, ast.Slice) and rows.lower is None and rows.upper is None and rows.step is None
    if not whole or not isinstance(columns, (ast.Name, ast.Attribute)):
        return None
    return target.value.id, columns


def _row_count(function: FunctionNode, before: int) -> str | None:
    """A name the function binds, before `before`, to a batch's number of rows (`N = X.shape[0]`,
    `num_train = len(X)`), for the fix; None when there is none."""
    for s in sorted((s for s in walk(function) if isinstance(s, ast.Assign) and s.lineno < before), key=lambda s: -s.lineno):
        if len(s.targets) != 1 or not isinstance(s.targets[0], ast.Name):
            continue
        value = s.value
        rows = (
            isinstance(value, ast.Subscript) and isinstance(value.value, ast.Attribute) and value.value.attr == "shape"
            and isinstance(value.slice, ast.Constant) and value.slice.value == 0
        ) or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "len" and len(value.args) == 1)  # fmt: skip
        if rows:
            return s.targets[0].id
    return None


def fed_by(function: FunctionNode, start: int, array: str, line: int) -> bool:
    """Whether the statement of `function` at `line` reads, through the statements between `start` and it
    (names they bind and the containers they store into, `grads['W1']` of `grads`), what `array` holds at `start`."""
    tainted = {array}
    for s in sorted((s for s in walk(function) if isinstance(s, (ast.Assign, ast.AugAssign)) and start < s.lineno <= line), key=lambda s: s.lineno):
        targets = s.targets if isinstance(s, ast.Assign) else [s.target]
        read = {n.id for n in walk(s.value) if isinstance(n, ast.Name)}
        if isinstance(s, ast.AugAssign) or any(not isinstance(t, ast.Name) for t in targets):
            read |= {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name)}  # `grads['W1'] += ...` reads `grads`
        if s.lineno <= line <= (s.end_lineno or s.lineno) and s.lineno > start:
            if read & tainted:
                return True
        if read & tainted:
            for t in targets:
                tainted |= {_root(e) for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])} - {""}
    return False


def _root(node: ast.expr) -> str:
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""
