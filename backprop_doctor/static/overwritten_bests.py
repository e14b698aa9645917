"""Early stopping whose best-so-far is overwritten with the current value just before the improvement test:
`best_val = val` then `if val < best_val: bad = 0 else: bad += 1; if bad >= patience: break`.

`overwritten_bests` reads the tree only. It finds, in a loop's own statements, an `if` whose strict
comparison of a value with a best-so-far (`val < best`, `acc > self.best`, `val < best - min_delta`) can
never be true because a statement just before it, in the same block, sets that best from the value:
to the value itself (`best = val`, `self.best = float(val)`: the test compares the value with itself),
or to the smaller (larger) of the two (`best = min(best, val)` before `val < best`). Nothing between
that statement and the test may bind a name either side reads, call a method of either side's owner
(`self.log(...)` when a side is `self.best`), and no function of the file may declare either name
`global` or `nonlocal`. A comparison that is always true instead (`val <= best` after `best = val`)
never stops the loop, and a test whose body counts the bad passes (`prev = loss` then
`if loss > prev: bad += 1`) never counts one: neither is found. Found only when the test's failing
branch leads to a stop: a count of passes without improvement that the test's body sets again
(`bad = 0`), that the pass only adds to elsewhere (`bad += 1`), under which a `break` or `return` ends
the loop (`if bad >= patience: break`), or the `while` loop's own test on that count; or a `break` or
`return` in the test's `else` (see `reversed_stops._stop`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.reversed_stops import _NESTED, _own, _reads, _stop, _targets, _value_bound
from backprop_doctor.static.tree import spelled, walk

_MINIMA = {"min", "np.minimum", "numpy.minimum", "np.fmin", "numpy.fmin", "np.min", "numpy.min", "np.amin", "numpy.amin"}
_MAXIMA = {"max", "np.maximum", "numpy.maximum", "np.fmax", "numpy.fmax", "np.max", "numpy.max", "np.amax", "numpy.amax"}
_COPIES = {"float", "np.float64", "numpy.float64", "np.float32", "numpy.float32", "copy.copy", "copy.deepcopy", "deepcopy", "np.copy", "numpy.copy"}


@dataclass(frozen=True)
class OverwrittenBest:
    line: int  # the statement that overwrites the best
    statement: str  # that statement as written (`best_val = val`)
    best: str  # the best-so-far as written (`best_val`, `self.best`)
    value: str  # the value the test compares (`val`)
    moved: str  # the binding to move into the improvement branch (`best_val = val`)
    kind: str  # "same" (`best = val`), "min" (`best = min(best, val)`) or "max"
    test_line: int
    test: str  # the improvement test as written (`val < best_val`)
    stop_line: int  # the `break` or `return` that ends the loop (the loop's own line for `while wait < patience:`)
    guard: str | None  # the test it sits under (`waited >= patience`), None when it sits in the test's `else`
    counter: str | None  # the count of passes without improvement (`waited`)
    limits: tuple[str, ...]  # the other names the guard reads (`patience`)
    loop_line: int
    loop: ast.AST


def overwritten_bests(tree: ast.Module) -> list[OverwrittenBest]:
    """Every early stop of the file whose improvement test follows the overwriting of its best (the module's docstring)."""
    found: list[OverwrittenBest] = []
    declared = _declared(tree)
    for loop in (n for n in walk(tree) if isinstance(n, (ast.For, ast.While))):
        statements = _own(loop.body)
        for block in _blocks(loop.body):
            for index, test in enumerate(block):
                if not isinstance(test, ast.If):
                    continue
                stop = _overwritten(loop, statements, block, index, declared)
                if stop is not None:
                    found.append(stop)
                    break
            else:
                continue
            break
    return found


def _blocks(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """`body` and every statement list inside it, not those of a loop or def inside it."""
    found = [body]
    for stmt in body:
        if isinstance(stmt, _NESTED):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner:
                found.extend(_blocks(inner))
        for handler in getattr(stmt, "handlers", []) or []:
            found.extend(_blocks(handler.body))
    return found


def _declared(tree: ast.Module) -> set[str]:
    """The names some function of the file declares `global` or `nonlocal` (a call could rebind them)."""
    return {name for n in walk(tree) if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, annotate_fields=False, include_attributes=False) == ast.dump(b, annotate_fields=False, include_attributes=False)


def _called(node: ast.expr) -> str:
    return ast.unparse(node.func) if isinstance(node, ast.Call) else ""


def _copied(node: ast.expr) -> ast.expr:
    """`val` of `val`, `float(val)`, `val.item()`, `val.copy()`, `copy.deepcopy(val)`: the value a binding copies."""
    if isinstance(node, ast.Call) and not node.keywords:
        if _called(node) in _COPIES and len(node.args) == 1:
            return _copied(node.args[0])
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("item", "copy") and not node.args:
            return _copied(node.func.value)
    return node


def _sides(compare: ast.Compare) -> list[tuple[ast.expr, str, ast.expr | None, bool]]:
    """Each reading of a strict comparison as (value, best, margin, the value must be below the best):
    `val < best`, `best > val`, `val < best - min_delta`, `acc > best + tol`."""
    left, right, op = compare.left, compare.comparators[0], type(compare.ops[0])
    below = op is ast.Lt  # `left < right`
    readings = []
    for value, best_node, value_below in ((left, right, below), (right, left, not below)):
        margin = None
        if isinstance(best_node, ast.BinOp) and isinstance(best_node.op, (ast.Add, ast.Sub)):
            if isinstance(best_node.op, ast.Sub) != value_below:
                continue  # `val < best + tol` is true of `val` against itself
            margin = best_node.right
            if not _margin(margin):
                continue
            best_node = best_node.left
        best = spelled(best_node)
        if best:
            readings.append((value, best, margin, value_below))
    return readings


def _margin(node: ast.expr) -> bool:
    """A margin that is not negative: a number at or above 0, or a setting's name (`min_delta`, `self.tol`)."""
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float) and node.value >= 0
    return bool(spelled(node))


def _root(text: str) -> str:
    return text.split(".")[0]


def _overwritten(loop: ast.AST, statements: list[ast.stmt], block: list[ast.stmt], index: int, declared: set[str]) -> OverwrittenBest | None:
    test = block[index]
    compare = test.test  # type: ignore[attr-defined]
    if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and type(compare.ops[0]) in (ast.Lt, ast.Gt)):
        return None  # `<=`/`>=` of a value with itself is always true: the loop never stops, which harms nothing
    for value, best, margin, value_below in _sides(compare):
        if best in _reads(value) or any(isinstance(n, (ast.Call, ast.NamedExpr, ast.Await, ast.Yield)) for n in ast.walk(value)):
            continue
        read = _reads(compare)
        if read & declared or {_root(r) for r in read} & declared:
            continue
        where = next((i for i in range(index - 1, -1, -1) if best in _bound(block[i])), None)
        if where is None:
            continue
        setting = block[where]
        if not isinstance(setting, (ast.Assign, ast.AnnAssign)) or best not in _targets(setting):
            continue
        bound = _value_bound(setting, best)
        kind = _kind(bound, value, best, value_below)
        if kind is None:
            continue
        if any(_changes(stmt, read) for stmt in block[where + 1 : index]):
            continue
        if kind == "same" and len(_targets(setting)) > 1 and read & (_targets(setting) - {best}):
            continue  # `best, val = val, other`: the value the test reads is rebound by the same statement
        stop = _stop(loop, statements, test)  # type: ignore[arg-type]
        if stop is None:
            continue
        stop_line, guard, counter, limits = stop
        if counter is not None and not _only_counted(statements, test, counter):  # type: ignore[arg-type]
            continue
        moved = f"{best} = {ast.unparse(bound)}" if kind == "same" else f"{best} = {ast.unparse(value)}"
        return OverwrittenBest(
            setting.lineno, _first_line(setting), best, ast.unparse(value), moved, kind, test.lineno, ast.unparse(compare),
            stop_line, guard, counter, limits, loop.lineno, loop,  # type: ignore[attr-defined]
        )
    return None


def _kind(bound: ast.expr | None, value: ast.expr, best: str, value_below: bool) -> str | None:
    """How `best = bound` makes the test never true: "same" (the value itself), "min" or "max" (of best and value)."""
    if bound is None:
        return None
    if _same(_copied(bound), value):
        return "same"
    if isinstance(bound, ast.Call) and not bound.keywords:
        args = list(bound.args)
        if len(args) == 1 and isinstance(args[0], (ast.List, ast.Tuple)) and _called(bound).startswith(("np.", "numpy.")):
            args = list(args[0].elts)
        if len(args) != 2 or not _called(bound):
            return None
        spelled_args = [spelled(a) for a in args]
        if best not in spelled_args:
            return None
        other = args[1 - spelled_args.index(best)]
        if not _same(_copied(other), value):
            return None
        if _called(bound) in _MINIMA and value_below:
            return "min"  # best <= val, so `val < best` is never true
        if _called(bound) in _MAXIMA and not value_below:
            return "max"
    return None


def _bound(stmt: ast.stmt) -> set[str]:
    """Every name or attribute `stmt` binds anywhere inside it (targets of assignments, loops, `with`, `except`, `del`, `:=`)."""
    found: set[str] = set()
    for node in ast.walk(stmt):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets = [node.optional_vars]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        for target in targets:
            for n in ast.walk(target):
                text = spelled(n)
                if text:
                    found.add(text)
                if isinstance(n, ast.Subscript):
                    text = spelled(n.value)
                    if text:
                        found.add(text)
    return found


def _changes(stmt: ast.stmt, read: set[str]) -> bool:
    """Whether `stmt`, standing between the overwriting and the test, may change a name the test reads: it
    binds one (or an attribute of one), calls a method of one or of its owner (`val.fill(0)`, `self.log(val)`
    when `self.best` is read), hands `self` to a call, or calls `setattr`/`exec`/`globals`."""
    roots = {_root(r) for r in read}
    bound = _bound(stmt)
    if bound & read or {_root(b) for b in bound if "." in b} & roots - {"self"} or any(b.startswith(r + ".") for b in bound for r in read):
        return True
    for node in ast.walk(stmt):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("setattr", "exec", "eval", "globals", "vars", "delattr"):
            return True
        if isinstance(func, ast.Attribute):
            owner = spelled(func.value)
            if owner and (owner in read or owner in roots):
                return True  # `val.fill(0)`, `self.log(val)`; not `self.history.append(val)`
        if "self" in roots and any(isinstance(a, ast.Name) and a.id == "self" for a in [*node.args, *(k.value for k in node.keywords)]):
            return True  # `callback(self)` may set `self.best`
    return False


def _only_counted(statements: list[ast.stmt], test: ast.If, counter: str) -> bool:
    """Whether the pass, outside the test's body, only adds to the count (`bad += 1`), never sets it (`bad = 0` at every pass)."""
    body = _own(test.body)
    for stmt in statements:
        if stmt in body or counter not in _targets(stmt):
            continue
        if not (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add)):
            return False
    return True


def _first_line(stmt: ast.stmt) -> str:
    text = ast.unparse(stmt)
    return text.splitlines()[0] if text else ""
