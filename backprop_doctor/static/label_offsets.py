"""One-hot targets built from labels minus a constant: `np.eye(K)[y - 1]`, `T[np.arange(n), y - 1] = 1`,
`onehot[i, int(y[i]) - 1] = 1`, `to_categorical(y - 1, K)`.

Written for labels that run from 1 to K (MATLAB's, a data set's own numbering). Where the labels run
from 0, the shifted label of class 0 is -1, which NumPy reads as the last row or column: every class
is trained under the next one's label. Whether the labels start at 0 is a fact of the run, not of the
source; this module only finds the sites (`shifted_one_hots`) and the name whose values are the labels.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_ENCODER = re.compile(r"(?i)(?:to_)?(?:one_?hot|categorical)(?:_?encod\w*|_?vectors?|_?labels?)?|(?:make|get|build|vectori[sz]e)_?(?:one_?hot|targets?)\w*")
_EYE = ("eye", "identity")


@dataclass(frozen=True)
class ShiftedOneHot:
    line: int  # the statement that builds the targets
    labels: str  # the name holding the labels, as the site's scope sees it (`y`, `yb`, `labels`)
    shift: int  # the constant taken off (1)
    written: str  # the shifted labels as written (`y - 1`)
    function: str | None  # the function the site is in (its parameter `labels` is then what callers hand it); None: module level
    parameter: int | None  # with `function`: the position of `labels` among its parameters, when it is one
    rebound: bool  # `labels` is bound again after the site in its scope (`y = y - 1` for the accuracy): its later values say nothing


def shifted_one_hots(tree: ast.Module | None) -> list[ShiftedOneHot]:
    """Every statement that builds one-hot targets from a name minus a whole number."""
    if tree is None:
        return []
    found: list[ShiftedOneHot] = []
    scopes: list[tuple[ast.AST, ast.FunctionDef | None]] = [(tree, None)]
    scopes += [(node, node) for node in walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope, function in scopes:
        eyes = _identity_names(scope)
        for stmt in _own_statements(scope):
            for shifted in _shifted_in(stmt, eyes):
                labels, shift, written = shifted
                parameter = _parameter_index(function, labels)
                found.append(
                    ShiftedOneHot(
                        stmt.lineno, labels, shift, written, function.name if function is not None else None, parameter,
                        rebound=_bound_after(scope, labels, stmt),
                    )
                )
    return found


def callers_arguments(tree: ast.Module, function: str, position: int) -> list[str]:
    """The names the file's calls of `function` hand it at `position` (`one_hot(yb)` -> `yb`; `y_train` of
    `one_hot(y_train[idx], 10)`); empty when one call hands something else."""
    names = []
    for node in walk(tree):
        if not (isinstance(node, ast.Call) and _called(node) == function):
            continue
        if position >= len(node.args):
            return []
        root = _root(node.args[position])
        if root is None:
            return []
        names.append(root)
    return names


def _own_statements(scope: ast.AST) -> list[ast.stmt]:
    """The simple statements of `scope` itself, nested blocks included, not those of functions or classes inside it."""
    found: list[ast.stmt] = []
    todo = list(getattr(scope, "body", []))
    while todo:
        stmt = todo.pop(0)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)):
            found.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            todo.extend(getattr(stmt, field, []) or [])
        for handler in getattr(stmt, "handlers", []) or []:
            todo.extend(handler.body)
    return found


def _identity_names(scope: ast.AST) -> set[str]:
    """Names the scope binds to an identity matrix (`I = np.eye(10)`), to be indexed by labels later."""
    return {
        stmt.targets[0].id for stmt in _own_statements(scope)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and _is_eye(stmt.value)
    }  # fmt: skip


def _is_eye(node: ast.AST) -> bool:
    """`np.eye(K)`, `numpy.identity(10, dtype=float)`, `np.eye(K).astype(np.float32)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("astype", "copy"):
        node = node.func.value
    return isinstance(node, ast.Call) and _called(node) in _EYE


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _shifted_in(stmt: ast.stmt, eyes: set[str]) -> list[tuple[str, int, str]]:
    """The shifted labels a statement builds one-hot rows from: indexing an identity matrix, storing ones
    at them, or handing them to a one-hot encoder."""
    found = []
    for node in walk(stmt):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and (_is_eye(node.value) or isinstance(node.value, ast.Name) and node.value.id in eyes):
            indices = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            found += [s for s in map(_shifted, indices) if s is not None]
        elif isinstance(node, ast.Call) and _ENCODER.fullmatch(_called(node)) and node.args:
            shifted = _shifted(node.args[0])
            if shifted is not None:
                found.append(shifted)
    if isinstance(stmt, ast.Assign) and _is_one(stmt.value):
        for target in stmt.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Tuple) and len(target.slice.elts) == 2:
                found += [s for s in map(_shifted, target.slice.elts) if s is not None]
    return found


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == 1


def _shifted(node: ast.AST) -> tuple[str, int, str] | None:
    """(`y`, 1, `y - 1`) of `y - 1`, `y[i] - 1`, `int(y[i]) - 1`, `(y - 1).astype(int)`, `y.astype(int) - 1`."""
    written = ast.unparse(node)
    node = _unwrapped(node)
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)):
        return None
    shift = node.right
    if not (isinstance(shift, ast.Constant) and type(shift.value) is int and shift.value >= 1):
        return None
    root = _root(node.left)
    return (root, shift.value, written) if root is not None else None


def _unwrapped(node: ast.AST) -> ast.AST:
    """Without the conversions around labels: `.astype(int)`, `int(...)`, `np.int64(...)`, `.ravel()`, `.flatten()`."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("astype", "ravel", "flatten", "squeeze", "reshape"):
            node = node.func.value
        elif isinstance(node, ast.Call) and len(node.args) == 1 and re.fullmatch(r"u?int\d*|asarray|array|squeeze|ravel", _called(node)):
            node = node.args[0]
        else:
            return node


def _root(node: ast.AST) -> str | None:
    """`y` of `y`, `y[i]`, `y[idx]`, `y.astype(int)`, `int(y[i])`; None for anything computed."""
    node = _unwrapped(node)
    while isinstance(node, ast.Subscript):
        node = _unwrapped(node.value)
    return node.id if isinstance(node, ast.Name) else None


def _parameter_index(function: ast.FunctionDef | None, name: str) -> int | None:
    if function is None:
        return None
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]  # a method's callers hand the arguments after `self`
    return names.index(name) if name in names else None


def _bound_after(scope: ast.AST, name: str, site: ast.stmt) -> bool:
    """Whether `scope` binds `name` again after the site's line (`y = y - 1`, `y -= 1`, `for x, y in data`)."""
    nested = {id(n) for d in walk(scope) if d is not scope and isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) for n in walk(d)}
    for stmt in walk(scope):
        if id(stmt) in nested or getattr(stmt, "lineno", 0) <= site.lineno or stmt is site:
            continue
        targets = (
            stmt.targets if isinstance(stmt, ast.Assign)
            else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For))
            else []
        )  # fmt: skip
        if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in walk(t)):
            return True
    return False
