"""A learning-rate schedule written in the training loop: `lr = lr0 * 0.5 ** epoch` at the top of each
pass, or `lr *= 0.95` at the end of each epoch.

`rate_schedule` finds, for the rate name the step's updates share, the statement that sets it inside the
training loop or a loop around it, and the `for ... in range(...)` loop whose counter it follows (the loop
holding a `*=`, or the loop whose variable the formula reads). `replay.schedule` evaluates it; nothing
here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class Schedule:
    rate: str  # `lr`
    line: int  # the statement that sets it
    statement: str  # as written
    formula: str | None  # the right-hand side of `lr = f(epoch)`; None for a factor applied each pass
    factor: str | None  # `0.95` of `lr *= 0.95`, `decay` of `lr = lr * decay`
    divides: bool  # `lr /= 1.01`
    counter: str  # the loop variable the rate follows (`epoch`)
    loop_line: int  # that loop's line
    range_args: tuple[str, ...]  # the `range(...)` arguments of that loop, as written; () when it is no `range` loop
    trips: tuple[Trip, ...] = ()  # a factor's: each loop that runs it, innermost first, out to the training loop's outermost


@dataclass(frozen=True)
class Trip:
    """One loop a factor statement runs in, and how many passes it makes, as an expression of the values the
    program holds when its first step begins: `len(range(0, len(X), batch))`, `len(batches)`, or
    `max(0, -((epoch - epochs) // 1))` for `while epoch < epochs: ... epoch += 1`. None when unknown."""

    line: int
    counter: str | None  # the loop's variable (`epoch`), when it is one name
    passes: str | None
    range_args: tuple[str, ...] = ()  # when it is a `range` loop: its arguments, to name the counter's value at a pass
    counts: tuple[str, str] | None = None  # a counted `while`'s (first value, step) of its counter, for the same


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    parents: dict[ast.AST, ast.AST] = {}
    for node in walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _range_loop(node: ast.AST) -> tuple[str, tuple[str, ...]] | None:
    """(counter, range arguments) of `for epoch in range(...)`."""
    if not isinstance(node, ast.For) or not isinstance(node.target, ast.Name):
        return None
    it = node.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and 1 <= len(it.args) <= 3 and not it.keywords:
        return node.target.id, tuple(ast.unparse(a) for a in it.args)
    return None


def _factor(statement: ast.stmt, rate: str) -> tuple[str, bool] | None:
    """(`0.95`, divides) of `lr *= 0.95`, `lr /= 1.01`, `lr = lr * decay`, `lr = decay * lr`, `lr = lr / 1.01`."""
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, (ast.Mult, ast.Div)):
        return ast.unparse(statement.value), isinstance(statement.op, ast.Div)
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.BinOp) and isinstance(statement.value.op, (ast.Mult, ast.Div)):
        left, right = statement.value.left, statement.value.right
        if isinstance(left, ast.Name) and left.id == rate and not _reads(right, rate):
            return ast.unparse(right), isinstance(statement.value.op, ast.Div)
        if isinstance(statement.value.op, ast.Mult) and isinstance(right, ast.Name) and right.id == rate and not _reads(left, rate):
            return ast.unparse(left), False
    return None


def _reads(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in walk(node))


def rate_schedule(tree: ast.AST | None, loop_line: int, rate: str) -> Schedule | None:
    """The statement inside the training loop at `loop_line` (or a loop around it) that sets `rate` each
    pass, with the `range` loop whose passes it counts."""
    if tree is None or not rate.isidentifier():
        return None
    loop = next((n for n in walk(tree) if isinstance(n, (ast.For, ast.While)) and n.lineno == loop_line), None)
    if loop is None:
        return None
    parents = _parents(tree)
    loops: list[ast.AST] = [loop]
    node: ast.AST = loop
    while node in parents and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node = parents[node]
        if isinstance(node, (ast.For, ast.While)):
            loops.append(node)
    for holder in loops:  # the training loop first, then the loops around it
        for statement in (s for s in walk(holder) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno != holder.lineno):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if not (len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == rate):
                continue
            factor = _factor(statement, rate)
            if factor is not None:
                inner = _innermost_loop(statement, parents)
                trips = _trips(inner, loops[-1], parents) if inner is not None else ()
                if not trips or trips[0].passes is None:
                    continue
                counter = trips[0].counter or ""
                return Schedule(
                    rate, statement.lineno, ast.unparse(statement), None, factor[0], factor[1], counter, trips[0].line, trips[0].range_args, trips
                )
            if isinstance(statement, ast.Assign):
                value = _branched(statement, rate, parents)
                for around in loops:
                    ranged = _range_loop(around)
                    if ranged is not None and _reads(value, ranged[0]):
                        return Schedule(rate, statement.lineno, _written(statement, value), ast.unparse(value), None, False, ranged[0], around.lineno, ranged[1])
                counted = _counted(value, loops, parents)
                if counted is not None:
                    name, span = counted
                    return Schedule(rate, statement.lineno, _written(statement, value), ast.unparse(value), None, False, name, loop.lineno, span)
    return None


def _written(statement: ast.Assign, value: ast.expr) -> str:
    """The statement as written, or `lr = a if epoch < warm else b` for a rate set in both branches of an `if`."""
    if value is statement.value:
        return ast.unparse(statement)
    return ast.unparse(ast.Assign(targets=statement.targets, value=value, lineno=statement.lineno))


def _branched(statement: ast.Assign, rate: str, parents: dict[ast.AST, ast.AST]) -> ast.expr:
    """The rate's formula over both branches when the pass sets it in an `if` and its `else` (a warm-up,
    then a decay): `if epoch < warm: lr = a` / `else: lr = b` reads as `a if epoch < warm else b`. An
    `elif` chain is read the same way; a branch that sets it with more than that one statement, or an
    `if` without an `else`, leaves the statement's own value."""
    branch = parents.get(statement)
    if not (isinstance(branch, ast.If) and branch.body == [statement]):
        return statement.value
    return _if_value(branch, rate) or statement.value


def _if_value(branch: ast.If, rate: str) -> ast.expr | None:
    def sets(body: list[ast.stmt]) -> ast.expr | None:
        if len(body) == 1 and isinstance(body[0], ast.If):
            return _if_value(body[0], rate)
        if len(body) == 1 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1:
            target = body[0].targets[0]
            if isinstance(target, ast.Name) and target.id == rate:
                return body[0].value
        return None

    then, otherwise = sets(branch.body), sets(branch.orelse)
    if then is None or otherwise is None:
        return None
    return ast.IfExp(test=branch.test, body=then, orelse=otherwise)


def _counted(formula: ast.expr, loops: list[ast.AST], parents: dict[ast.AST, ast.AST]) -> tuple[str, tuple[str, str]] | None:
    """(counter, range arguments over the passes still to come) of a formula that reads a counter of its
    own the training loop adds one to every pass (`lr = lr0 * 0.5 ** it` ... `it += 1`), counted over the
    `range` loops around: from its value when the step begins, as many passes as those loops make."""
    ranges = [_range_loop(around) for around in loops]
    if ranges[0] is None or any(r is None for r in ranges):
        return None
    for name in {n.id for n in walk(formula) if isinstance(n, ast.Name)}:
        counts = [
            s for s in walk(loops[0]) if isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name) and s.target.id == name
            and isinstance(s.op, ast.Add) and isinstance(s.value, ast.Constant) and s.value.value == 1
        ]  # fmt: skip
        if len(counts) == 1 and _innermost_loop(counts[0], parents) is loops[0]:
            lengths = " * ".join(f"len(range({', '.join(r[1])}))" for r in ranges if r is not None)
            return name, (name, f"{name} + {lengths}")
    return None


_PURE_CALLS = {"len", "range", "min", "max", "int", "abs", "round", "float"}
_WRAPPERS = {"enumerate", "tqdm", "tqdm_notebook", "list", "tuple", "reversed", "sorted", "iter", "notebook_tqdm"}
_ARRAY_CALLS = {"array_split", "split", "arange"}  # `np.array_split(X, k)`: NumPy's, pure


def _pure(node: ast.expr) -> bool:
    """An expression reading values only: names, attributes, items, numbers, arithmetic, and calls of
    `len`, `range`, `min`... or NumPy's `arange`/`array_split`: nothing that could draw a random number or
    run the program's own code when evaluated."""
    for n in walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in _PURE_CALLS:
                continue
            if isinstance(f, ast.Attribute) and f.attr in _ARRAY_CALLS and isinstance(f.value, ast.Name):
                continue
            return False
        if isinstance(n, (ast.Lambda, ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.SetComp)):
            return False
    return True


def _for_passes(iterable: ast.expr) -> tuple[str | None, tuple[str, ...]]:
    """(passes as an expression, range arguments when a `range`) of `for ... in iterable`."""
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, (ast.Name, ast.Attribute)) and not any(isinstance(a, ast.Starred) for a in iterable.args):
        name = iterable.func.id if isinstance(iterable.func, ast.Name) else iterable.func.attr
        args = iterable.args
        if name in ("range", "trange") and 1 <= len(args) <= 3 and all(_pure(a) for a in args):
            written = tuple(ast.unparse(a) for a in args)
            return f"len(range({', '.join(written)}))", written
        if name in _WRAPPERS and args:
            return _for_passes(args[0])[0], ()
        if name == "zip" and args:
            each = [_for_passes(a)[0] for a in args]
            if all(e is not None for e in each):
                return (each[0] if len(each) == 1 else f"min({', '.join(each)})"), ()  # type: ignore[arg-type]
            return None, ()
    if _pure(iterable):
        return f"len({ast.unparse(iterable)})", ()
    return None, ()


def _while_passes(loop: ast.While, parents: dict[ast.AST, ast.AST]) -> tuple[str, tuple[str, str]] | None:
    """The passes of `while i < n:` whose body adds a fixed step to `i` once every pass (`i += batch`), from
    the value `i` is given just before the loop (or holds when the step begins); with (that value, the step)."""
    test = loop.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, (ast.Gt, ast.GtE)):
        left, right, op = right, left, ast.Lt() if isinstance(op, ast.Gt) else ast.LtE()
    if not (isinstance(left, ast.Name) and isinstance(op, (ast.Lt, ast.LtE)) and _pure(right) and not _reads(right, left.id)):
        return None
    counter = left.id
    steps = [s for s in walk(loop) if isinstance(s, (ast.Assign, ast.AugAssign)) and _writes(s, counter)]
    step = steps[0] if len(steps) == 1 and steps[0] in loop.body else None
    if not (isinstance(step, ast.AugAssign) and isinstance(step.op, ast.Add) and _pure(step.value) and not _reads(step.value, counter)):
        return None
    start = counter
    holder = parents.get(loop)
    body = next((b for b in (getattr(holder, f, None) for f in ("body", "orelse")) if isinstance(b, list) and loop in b), None)
    for before in reversed(body[: body.index(loop)] if body else []):
        if _writes(before, counter):
            if isinstance(before, ast.Assign) and len(before.targets) == 1 and _pure(before.value):
                start = ast.unparse(before.value)
            break
    bound, by = ast.unparse(right), ast.unparse(step.value)
    if isinstance(op, ast.Lt):
        return f"max(0, -((({start}) - ({bound})) // ({by})))", (start, by)
    return f"max(0, (({bound}) - ({start})) // ({by}) + 1)", (start, by)


def _writes(statement: ast.AST, name: str) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target] if isinstance(statement, ast.AugAssign) else []
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in walk(t))


def _trips(inner: ast.AST, outermost: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[Trip, ...]:
    """Each loop from `inner` out to `outermost` that runs the statement on every pass of the one around
    it, innermost first: a condition or a function between two of them ends the chain there."""
    trips: list[Trip] = []
    node: ast.AST | None = inner
    while node is not None:
        if isinstance(node, ast.For):
            passes, range_args = _for_passes(node.iter)
            counter = node.target.id if isinstance(node.target, ast.Name) else None
            trips.append(Trip(node.lineno, counter, passes, range_args))
        else:
            counter = node.test.left.id if isinstance(node, ast.While) and isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Name) else None
            counted = _while_passes(node, parents) if isinstance(node, ast.While) else None
            trips.append(Trip(node.lineno, counter, counted[0] if counted else None, counts=counted[1] if counted else None))
        if node is outermost:
            break
        node = _innermost_loop(node, parents)
    return tuple(trips)


def _innermost_loop(statement: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    """The loop that runs `statement` on every pass; None when a condition stands between them (`if epoch %
    10 == 0: lr *= 0.5` decays every tenth pass only) or a function does."""
    node = statement
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.For, ast.While)):
            return node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.If)):
            return None
    return None


__all__ = ["Schedule", "Trip", "rate_schedule"]
