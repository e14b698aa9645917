"""Early stopping whose improvement test is the wrong way round: `best = np.inf` before the loop, then
`if val > best: best, bad = val, 0 else: bad += 1; if bad >= patience: break`.

`reversed_stops` reads the tree only. It finds, in a loop's own statements, an `if` comparing a value
with a best-so-far that only that `if`'s body rebinds, where the best starts at an infinity before the
loop (`np.inf`, `float('inf')`, `-math.inf`: the last binding before the loop in its function, or in
the class's `__init__` for `self.best`) and the comparison can never be true against it (nothing is
greater than +inf, nothing less than -inf): the best is never updated, and the loop's `break` (or
`return`) under a count of passes without improvement (`bad += 1` in the loop, `if bad >= patience`),
or in that `if`'s `else`, or the `while` loop's own test on that count, ends the loop after `patience` passes whatever the loss does.
The same when a loss (`val_loss`, `err`, `cost`) must go below a best that starts at zero or under it
(`best_val = 0.0` before `if val_loss < best_val:`): no loss is negative (`floor`, fixed at the start).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import spelled, walk

_NESTED = (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FLIPPED = {ast.Gt: "<", ast.GtE: "<=", ast.Lt: ">", ast.LtE: ">="}


@dataclass(frozen=True)
class ReversedStop:
    line: int  # the improvement test
    test: str  # as written (`val > best_val`)
    fix: str  # the comparison the right way round (`val < best_val`)
    best: str  # the best-so-far as written (`best_val`, `self.best`)
    start_line: int  # where it is set to an infinity
    start: str  # that value as written (`np.inf`)
    sign: int  # +1 for +inf, -1 for -inf
    stop_line: int  # the `break` or `return` that ends the loop (the loop's own line for `while wait < patience:`)
    guard: str | None  # the test it sits under (`bad >= patience`), None when it sits in the test's `else`
    counter: str | None  # the count of passes without improvement (`bad`)
    limits: tuple[str, ...]  # the other names the guard reads (`patience`)
    loop_line: int
    loop: ast.AST
    floor: bool = False  # the best starts at a floor no loss goes below (`best_val = 0.0` before `if val_loss < best_val:`)


# what a value the loop minimises is called when it cannot be negative (`val_loss`, `err`, `cost`)
_LOSS_WORDS = ("loss", "err", "cost", "mse", "nll", "mae", "entropy")


def _floor(node: ast.expr | None) -> bool:
    """`0`, `0.0`, `-1`: a number at or below zero, which no loss goes below."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return type(node.operand.value) in (int, float)
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value <= 0


def _loss_like(value: ast.expr) -> bool:
    text = ast.unparse(value).lower()
    return any(word in text for word in _LOSS_WORDS) and "acc" not in text


def infinity(node: ast.AST | None) -> int:
    """+1 for `np.inf`, `math.inf`, `float('inf')`, `np.Inf`, `numpy.PINF`; -1 for their negatives and
    `float('-inf')`, `np.NINF`; 0 for anything else."""
    if node is None:
        return 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = infinity(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy", "math"):
        return {"inf": 1, "Inf": 1, "Infinity": 1, "infty": 1, "PINF": 1, "NINF": -1}.get(node.attr, 0)
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        named = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        arg = node.args[0]
        if named in ("float", "float64", "float32") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            word = arg.value.strip().lower()
            if word in ("inf", "+inf", "infinity", "+infinity"):
                return 1
            if word in ("-inf", "-infinity"):
                return -1
    return 0


def _own(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of `body` and of the blocks inside it, not those of a loop or def inside it."""
    found: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, _NESTED):
            continue
        found.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                found.extend(_own(inner))
        for handler in getattr(stmt, "handlers", []) or []:
            found.extend(_own(handler.body))
    return found


def _targets(stmt: ast.stmt) -> set[str]:
    """What an assignment binds, as `_text` spells it (`best`, `self.best`, each of a tuple's)."""
    if isinstance(stmt, ast.Assign):
        nodes = list(stmt.targets)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        nodes = [stmt.target]
    else:
        return set()
    found: set[str] = set()
    for node in nodes:
        for n in [node, *(node.elts if isinstance(node, (ast.Tuple, ast.List)) else ())]:
            text = spelled(n)
            if text:
                found.add(text)
    return found


def _value_bound(stmt: ast.stmt, name: str) -> ast.expr | None:
    """The value `stmt` binds to `name` (`np.inf` of `best, bad = np.inf, 0`)."""
    if isinstance(stmt, ast.AnnAssign) and spelled(stmt.target) == name:
        return stmt.value
    if not isinstance(stmt, ast.Assign):
        return None
    for target in stmt.targets:
        if spelled(target) == name:
            return stmt.value
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(stmt.value, (ast.Tuple, ast.List)) and len(target.elts) == len(stmt.value.elts):
            for t, v in zip(target.elts, stmt.value.elts):
                if spelled(t) == name:
                    return v
    return None


def _reads(node: ast.AST) -> set[str]:
    found = set()
    for n in walk(node):
        text = spelled(n)
        if text and isinstance(getattr(n, "ctx", None), ast.Load):
            found.add(text)
    return found


def _best_side(node: ast.expr) -> str | None:
    """`best` of `best`, `self.best`, `best - min_delta`, `best + tol`: the best-so-far a side compares with."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return spelled(node.left)
    return spelled(node)


def _start(scope: ast.AST, classes: list[ast.ClassDef], loop: ast.AST, best: str) -> tuple[int, ast.expr] | None:
    """The last binding of `best` before `loop` in its function (or module), else a `self.` attribute's in `__init__`."""
    body = getattr(scope, "body", [])
    found = None
    for stmt in _own(body):
        if stmt.lineno >= loop.lineno:
            continue
        value = _value_bound(stmt, best)
        if value is not None:
            found = (stmt.lineno, value)
    if found is None and best.startswith("self."):
        for cls in classes:
            for node in cls.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__init__":
                    for stmt in _own(node.body):
                        value = _value_bound(stmt, best)
                        if value is not None:
                            found = (stmt.lineno, value)
    return found


def _enclosing(tree: ast.Module, line: int) -> tuple[ast.AST, list[ast.ClassDef]]:
    scope: ast.AST = tree
    classes: list[ast.ClassDef] = []
    for node in walk(tree):
        if isinstance(node, ast.ClassDef) and node.lineno <= line <= (node.end_lineno or node.lineno):
            classes.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if scope is tree or node.lineno >= scope.lineno:  # type: ignore[attr-defined]
                scope = node
    return scope, classes


def reversed_stops(tree: ast.Module) -> list[ReversedStop]:
    """Every early stop of the file whose improvement test can never be true (the module's docstring)."""
    found: list[ReversedStop] = []
    for loop in (n for n in walk(tree) if isinstance(n, (ast.For, ast.While))):
        statements = _own(loop.body)
        for test in (s for s in statements if isinstance(s, ast.If)):
            stop = _reversed(tree, loop, statements, test)
            if stop is not None:
                found.append(stop)
                break
    return found


def _reversed(tree: ast.Module, loop: ast.For | ast.While, statements: list[ast.stmt], test: ast.If) -> ReversedStop | None:
    compare = test.test
    if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and type(compare.ops[0]) in _FLIPPED):
        return None
    left, right, op = compare.left, compare.comparators[0], type(compare.ops[0])
    inside = {t for s in _own(test.body) for t in _targets(s)}
    for best_node, value, best_right in ((right, left, True), (left, right, False)):
        best = _best_side(best_node)
        if best is None or best not in inside or best in _reads(value):
            continue
        others = [s for s in statements if s not in _own(test.body) and s is not test and best in _targets(s)]
        if others:
            continue  # rebound elsewhere in the pass (`best = min(best, val)`): not only by an improvement
        scope, classes = _enclosing(tree, loop.lineno)
        start = _start(scope, classes, loop, best)
        if start is None:
            continue
        sign = infinity(start[1])
        greater = op in (ast.Gt, ast.GtE)  # `left > right`
        value_greater = greater if best_right else not greater  # the test asks the value to be above the best
        floor = sign == 0 and not value_greater and _floor(start[1]) and _loss_like(value)  # `val_loss < best` with `best = 0.0`
        if sign == 0 and not floor:
            continue
        if not floor and not ((sign > 0 and value_greater) or (sign < 0 and not value_greater)):
            continue  # `val < inf` is true at once: the right way round
        stop = _stop(loop, statements, test)
        if stop is None:
            continue
        stop_line, guard, counter, limits = stop
        fix = f"{best} = {_infinity_spelling(tree)}" if floor else f"{ast.unparse(left)} {_FLIPPED[op]} {ast.unparse(right)}"
        return ReversedStop(
            test.lineno, ast.unparse(compare), fix, best, start[0], ast.unparse(start[1]), sign, stop_line, guard, counter, limits, loop.lineno, loop,
            floor=floor,
        )
    return None


def _infinity_spelling(tree: ast.Module) -> str:
    """`np.inf` when the file imports numpy as `np`, else `float('inf')`."""
    for node in walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "numpy" and a.asname == "np" for a in node.names):
            return "np.inf"
    return "float('inf')"


def _stop(loop: ast.AST, statements: list[ast.stmt], test: ast.If) -> tuple[int, str | None, str | None, tuple[str, ...]] | None:
    """The `break` or `return` that ends the loop when no pass improves: in the test's `else`, or under an
    `if` reading a count the pass adds to (`bad += 1`) outside the test's body and that body sets again
    (`bad = 0`); or the `while` loop's own test on such a count."""
    body = _own(test.body)
    reset = {t for s in body for t in _targets(s)}
    counted = {
        t for s in statements if isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Add) and s not in body for t in _targets(s)
    } & reset
    if not counted:
        return _in_else(test)
    if isinstance(loop, ast.While) and _reads(loop.test) & counted:  # `while wait < patience:`: the loop's own test stops it
        name = sorted(_reads(loop.test) & counted)[0]
        return loop.lineno, ast.unparse(loop.test), name, _limits(loop.test, name)
    for guard in (s for s in statements if isinstance(s, ast.If) and s is not test):
        counter = _reads(guard.test) & counted
        if not counter:
            continue
        for stmt in _own(guard.body):
            if isinstance(stmt, (ast.Break, ast.Return)):
                name = sorted(counter)[0]
                return stmt.lineno, ast.unparse(guard.test), name, _limits(guard.test, name)
    return _in_else(test)


def _limits(node: ast.expr, counter: str) -> tuple[str, ...]:
    """The names a comparison reading `counter` compares it with (`patience` of `bad >= patience`)."""
    found: set[str] = set()
    for compare in (n for n in walk(node) if isinstance(n, ast.Compare)):
        read = _reads(compare)
        if counter in read:
            found |= {r for r in read if r not in (counter, "self") and not r.startswith(("np.", "math."))}
    return tuple(sorted(found))


def _in_else(test: ast.If) -> tuple[int, str | None, str | None, tuple[str, ...]] | None:
    """A `break` or `return` of the test's `else` itself (`else: break`): the loop ends at the first pass."""
    for stmt in test.orelse:
        if isinstance(stmt, (ast.Break, ast.Return)):
            return stmt.lineno, None, None, ()
    return None
