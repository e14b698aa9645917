"""The data arrays a training step feeds its network: its inputs and its targets, by name.

An input is an operand of a product with a weight (`X @ W1`, `np.dot(W1, X)`, `x.dot(self.W)`); a target
is an operand of a subtraction (`P - Y`, `out - y`) or the labels that pick each row's entry
(`probs[np.arange(n), y]`). Both are read in the step's statements and in the file's functions it calls,
a function's parameter followed back to the argument its caller hands it (`forward_backward(X[idx], Y[idx])`
reads `X` and `Y`). Only names the program binds before its loop are kept, each with the line that last
binds it there (`data_line`); names the step's updates move (its weights) are left out. Nothing here runs
user code: `replay.uniform` reads the values, `checks/step_inputs_identical.py` and
`checks/step_targets_identical.py` judge and word.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.output_range import data_line
from backprop_doctor.static.tree import walk

DEPTH = 3
_MADE = {"zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like"}


@dataclass(frozen=True)
class Fed:
    name: str  # the data array, as the program binds it before its loop (`X`)
    line: int  # the line that last binds it there
    role: str  # "input" or "target"
    axis: int  # the samples' axis: 0 for rows (`X @ W`), 1 for columns (`W @ X`)
    read: str = ""  # the name its value is read under in the loop (`data` of `def fit(self, data, ...)`), when not `name`


def _base(node: ast.expr | None) -> str | None:
    """`X` of `X`, `X[idx]`, `X[i:i + 32]`; None for anything else."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _operands(node: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    """(left, right) of a matrix product: `a @ b`, `np.dot(a, b)`, `a.dot(b)`, `np.matmul(a, b)`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return [(node.left, node.right)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "matmul"):
        if len(node.args) == 2 and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy"):
            return [(node.args[0], node.args[1])]
        if len(node.args) == 1 and node.func.attr == "dot":
            return [(node.func.value, node.args[0])]
    return []


def _compared(node: ast.AST) -> list[ast.expr]:
    """Operands a loss compares with an output: both sides of `P - Y`; the labels of `P[np.arange(n), y]`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        return [node.left, node.right]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2:
        rows, labels = node.slice.elts
        if isinstance(rows, ast.Call) and getattr(rows.func, "attr", getattr(rows.func, "id", "")) in ("arange", "range"):
            return [labels]
    return []


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    counts: dict[str, int] = {}
    for stmt in tree.body:
        nodes = [stmt] if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        if isinstance(stmt, ast.ClassDef):
            nodes = [n for n in stmt.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in nodes:
            counts[node.name] = counts.get(node.name, 0) + 1
            found[node.name] = node
    return {name: node for name, node in found.items() if counts[name] == 1}


def _handed(call: ast.Call, node: ast.FunctionDef | ast.AsyncFunctionDef, mapping: dict[str, str] | None) -> dict[str, str]:
    """The callee's parameters -> the caller's data names (`X` for `X[idx]`), through the caller's own mapping."""
    params = [a.arg for a in node.args.posonlyargs + node.args.args]
    if params and params[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
        params = params[1:]
    handed: dict[str, str] = {}
    pairs = list(zip(params, call.args)) if not any(isinstance(a, ast.Starred) for a in call.args) else []
    pairs += [(k.arg, k.value) for k in call.keywords if k.arg]
    for param, value in pairs:
        name = _base(value)
        if name is None:
            continue
        outer = name if mapping is None else mapping.get(name)
        if outer is not None:
            handed[param] = outer
    return handed


def _locals(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    for n in walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    return names


def fed_data(tree: ast.Module, prefix: tuple[ast.stmt, ...], loop_line: int, function_line: int, moved: set[str]) -> list[Fed]:
    """The inputs and targets the step's pass reads, each a data array bound before the loop."""
    functions = _functions(tree)
    seen: dict[tuple[str, str], int] = {}  # (name, role) -> axis
    visited: set[int] = set()

    def resolve(expr: ast.expr, mapping: dict[str, str] | None, local: set[str]) -> str | None:
        name = _base(expr)
        if name is None:
            return None
        if mapping is None:
            return name
        if name in mapping:
            return mapping[name]
        return None if name in local else name  # a global the function reads

    def visit(statements: list[ast.stmt], mapping: dict[str, str] | None, local: set[str], depth: int) -> None:
        for stmt in statements:
            for node in walk(stmt):
                for left, right in _operands(node):
                    for operand, other, axis in ((left, right, 0), (right, left, 1)):
                        name = resolve(operand, mapping, local)
                        weight = _base(other) or (other.attr if isinstance(other, ast.Attribute) else None)
                        if name is not None and name not in moved and weight is not None:
                            seen.setdefault((name, "input"), axis)
                for operand in _compared(node):
                    name = resolve(operand, mapping, local)
                    if name is not None and name not in moved:
                        seen.setdefault((name, "target"), -1)
                if isinstance(node, ast.Call) and depth < DEPTH:
                    callee = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
                    target = functions.get(callee or "")
                    if target is not None and id(target) not in visited:
                        visited.add(id(target))
                        visit(target.body, _handed(node, target, mapping), _locals(target), depth + 1)

    visit(list(prefix), None, set(), 1)
    found = []
    for (name, role), axis in seen.items():
        data, line = data_line(tree, prefix, name, loop_line, function_line)
        read = data
        if line is None and function_line:  # a loop inside a function: its parameter's argument, or a module's array
            data, line = _handed_in(tree, function_line, data)
        if line is None or data in moved or _made(tree, line):
            continue
        found.append(Fed(data, line, role, axis, read))
    return found


def _top_binding(tree: ast.Module, name: str, before: int | None = None) -> int | None:
    lines = [
        s.lineno for s in tree.body
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in s.targets) and (before is None or s.lineno < before)
    ]  # fmt: skip
    return max(lines) if lines else None


def _handed_in(tree: ast.Module, function_line: int, name: str) -> tuple[str, int | None]:
    """(name, line) of the module's array a parameter of the loop's function is handed by its one call at the
    module's top level (`Model().fit(feats, ys)` for `def fit(self, data, target)`), else of a module array
    of that name."""
    node = next((n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno == function_line), None)
    params = [a.arg for a in node.args.posonlyargs + node.args.args] if node is not None else []
    if node is None or name not in params:
        return name, _top_binding(tree, name)
    calls = [
        (s, c) for s in tree.body for c in walk(s)
        if isinstance(c, ast.Call) and (getattr(c.func, "id", None) == node.name or getattr(c.func, "attr", None) == node.name)
    ]  # fmt: skip
    if len(calls) != 1:
        return name, None
    stmt, call = calls[0]
    method = bool(params) and params[0] in ("self", "cls") and isinstance(call.func, ast.Attribute)
    index = params.index(name) - (1 if method else 0)
    argument = next((k.value for k in call.keywords if k.arg == name), None)
    if argument is None and 0 <= index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        argument = call.args[index]
    outer = _base(argument)
    if outer is None:
        return name, None
    return outer, _top_binding(tree, outer, stmt.lineno)


def _made(tree: ast.Module, line: int) -> bool:
    """Whether the line binds a fresh array of one value (`h0 = np.zeros((n, 16))`): a state, no data."""
    for node in walk(tree):
        if isinstance(node, ast.Assign) and node.lineno == line and isinstance(node.value, ast.Call):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name in _MADE
    return False


def statement_at(tree: ast.Module, line: int) -> ast.stmt | None:
    return next((n for n in walk(tree) if isinstance(n, ast.stmt) and n.lineno == line and not isinstance(n, (ast.For, ast.While, ast.If, ast.With))), None)


def floor_divided(statement: ast.stmt | None) -> bool:
    """Whether the statement divides with `//`."""
    return statement is not None and any(isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, ast.FloorDiv) for n in walk(statement))


def settings_read(tree: ast.Module, statement: ast.stmt | None, loop_line: int) -> list[tuple[str, int, ast.expr]]:
    """(name, line, literal) of each name the statement reads that another line before the loop binds
    to a number (`smoothing = 1.0`); `from_one` tells whether the statement subtracts it from 1."""
    if statement is None:
        return []
    read = sorted({n.id for n in walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)})
    found = []
    for name in read:
        bound = [
            n for n in walk(tree)
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
            and n.lineno < loop_line and n.lineno != statement.lineno
        ]  # fmt: skip
        if not bound:
            continue
        last = max(bound, key=lambda n: n.lineno)
        value = last.value
        if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            found.append((name, last.lineno, value))
    return found


def from_one(statement: ast.stmt | None, name: str) -> bool:
    """`1 - name` or `1.0 - name` in the statement."""
    return statement is not None and any(
        isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and isinstance(n.left, ast.Constant) and n.left.value == 1
        and isinstance(n.right, ast.Name) and n.right.id == name
        for n in walk(statement)
    )  # fmt: skip


_STATISTICS = {"mean", "std", "var", "nanmean", "nanstd", "nanvar", "median", "min", "max", "amin", "amax", "ptp", "norm", "percentile", "quantile"}


@dataclass(frozen=True)
class Statistics:
    """The statement that computes the statistics a data array is scaled by (`mu, sd = X_raw.mean(axis=0), X_raw.std(axis=0)`)."""

    line: int
    over: str  # the array they are taken over (`X_raw`)
    selected: str  # how the scaled array reads it instead, a selection of its samples (`X_raw[keep]`); "" when it reads it whole


def _reduced(node: ast.AST) -> str | None:
    """The array a statistic reduces: `X_raw` of `X_raw.mean(axis=0)`, `np.std(X_raw, axis=0)`, `np.linalg.norm(X, axis=1)`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in _STATISTICS:
        return None
    if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy")) and not (
        isinstance(func.value, ast.Attribute) and func.value.attr == "linalg"
    ):
        return _base(func.value)
    return _base(node.args[0]) if node.args else None


def _statistic_over(statement: ast.stmt) -> tuple[str, bool] | None:
    """(the array the statement's statistics reduce, whether whole), one taken whole first (`X_raw` of
    `X_raw[keep].mean(0), X_raw.std(0)`); None when it computes none."""
    reduced = [(r, _reduced_whole(n)) for n in walk(statement) if (r := _reduced(n)) is not None]
    return next(((r, True) for r, whole in reduced if whole), reduced[0] if reduced else None)


def _reduced_whole(node: ast.Call) -> bool:
    """Whether the statistic reduces a name as it is, not a selection of it (`X_raw`, not `X_raw[keep]`)."""
    func = node.func
    operand = func.value if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy")) and not (
        isinstance(func.value, ast.Attribute) and func.value.attr == "linalg"
    ) else (node.args[0] if node.args else None)
    return isinstance(operand, ast.Name)


def _scaled_by(statement: ast.stmt) -> list[str]:
    """The names a statement shifts or scales its data by (`mu`, `sd` of `(X_raw[keep] - mu) / sd`, of `X -= mu`), else
    every name it reads outside an index (`Xn` of `X = Xn[keep]`)."""
    operands = [
        n.right for n in walk(statement)
        if isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, (ast.Sub, ast.Div))
    ]  # fmt: skip
    operands += [n.left for n in walk(statement) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)]
    indexed = {id(m) for n in walk(statement) if isinstance(n, ast.Subscript) for m in walk(n.slice)}
    names = [m.id for o in operands for m in walk(o) if isinstance(m, ast.Name) and isinstance(m.ctx, ast.Load) and id(m) not in indexed]
    if not operands:
        names = [m.id for m in walk(statement) if isinstance(m, ast.Name) and isinstance(m.ctx, ast.Load) and id(m) not in indexed]
    return [n for n in dict.fromkeys(names) if n not in ("np", "numpy")]


def statistics_statement(tree: ast.Module, line: int, depth: int = 2) -> Statistics | None:
    """Where the statistics that scale the data array bound at `line` are computed, before the loop: that
    statement itself when it computes them (`X = (X_raw - X_raw.mean(0)) / X_raw.std(0)`), else the last
    statement before it binding a name it reads to a statistic of an array (`mu, sd = X_raw.mean(axis=0), ...`),
    followed back `depth` statements. `selected`: the scaled array reads that array through a subscript
    (`X_raw[keep]`), so the statistics count samples it leaves out."""
    statement = statement_at(tree, line)
    if statement is None:
        return None
    seen: set[int] = {id(statement)}
    level = [statement]
    for _ in range(depth + 1):
        hits = [(current, over) for current in level if (over := _statistic_over(current))]
        if hits:
            # the first of them taken over a whole array (a mean's line before a deviation's), else the first
            current, (over, whole) = min(hits, key=lambda hit: (not hit[1][1], hit[0].lineno))
            selected = next(
                (ast.unparse(n) for n in walk(statement) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == over),
                "",
            ) if whole else ""  # fmt: skip
            return Statistics(current.lineno, over, selected)
        following = []
        for current in level:
            for name in _scaled_by(current):
                bound = [
                    n for n in walk(tree)
                    if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno < current.lineno
                    and any(isinstance(t, ast.Name) and t.id == name for target in (n.targets if isinstance(n, ast.Assign) else [n.target]) for t in walk(target))
                ]  # fmt: skip
                last = max(bound, key=lambda n: n.lineno) if bound else None
                if last is not None and id(last) not in seen:
                    seen.add(id(last))
                    following.append(last)
        level = following
    return None


__all__ = ["Fed", "Statistics", "fed_data", "floor_divided", "from_one", "settings_read", "statement_at", "statistics_statement"]
