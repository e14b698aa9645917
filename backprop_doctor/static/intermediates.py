"""The intermediate gradients of a backward and the forward values they are the gradients of.

A layer's backward written in stages names each intermediate gradient after the forward value it is
the gradient of:

    def forward(self, x):                       def backward(self, dout):
        self.mean = x.mean(axis=0)                  dxhat = dout * self.gamma
        self.xmu = x - self.mean                    dvar = np.sum(dxhat * self.xmu, axis=0) * -0.5 * ...
        self.var = (self.xmu ** 2).mean(axis=0)     dmean = np.sum(-dxhat / self.std, axis=0) + ...
        self.xhat = self.xmu / np.sqrt(...)         dx = dxhat / self.std + ... + dmean / N
        return self.gamma * self.xhat + self.beta   return dx

`pairs` gives the statements of the backward, before the one that stores the checked gradient, that
bind `dNAME` (or `d_NAME`) once, each with the one statement of the forward that binds `NAME` (or
`self.NAME`) once; `recorded`, `shifted` and `injected` are the statements `injections` adds after them
to read an intermediate gradient, move a forward value, and put a right gradient in place. Nothing here
runs user code; the lines are those of the trees handed in.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

PROBE = "__bpd_probe__"  # the global the added statements call: ends in `__`, so never mangled in a class


@dataclass(frozen=True)
class Pair:
    """`dvar = ...` (a statement of the backward) and `self.var = ...` (the forward's, which it is the gradient of)."""

    adjoint: str  # "dvar"
    statement: ast.Assign  # the backward's statement
    forward: str  # "self.var" or "var"
    bindings: tuple[ast.Assign, ...]  # the forward's statement, or one in each branch that can bind it (train, test)


def pairs(backward: FunctionNode, forward: FunctionNode, store_line: int) -> list[Pair]:
    """The backward's intermediate gradients before the statement at `store_line`, in the order they run
    (source order, none in a loop), each with the forward statement binding the value it is named after."""
    store = next((s for s in _statements(backward) if s.lineno <= store_line <= (s.end_lineno or s.lineno)), None)
    if store is None:
        return []
    bound = _bound_once(forward)
    parameters = {a.arg for a in (*forward.args.posonlyargs, *forward.args.args, *forward.args.kwonlyargs)}
    rebound = _rebinds(backward)
    found = []
    for statement in _statements(backward):
        if statement.lineno >= store.lineno or not isinstance(statement, ast.Assign) or _in_loop(backward, statement):
            continue
        if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
            continue
        name = statement.targets[0].id
        stem = name[2:] if name.startswith("d_") else name[1:] if name.startswith("d") else ""
        if not stem or rebound.get(name, 0) != 1 or stem not in bound:
            continue
        bindings = bound[stem]
        if any(_copies_parameter(b.value, parameters) for b in bindings):
            continue  # `self.x = x`: the forward computes on its own argument, not on what it keeps
        found.append(Pair(name, statement, ast.unparse(bindings[0].targets[0]), bindings))
    return found


def recorded(pair: Pair) -> ast.stmt:
    """`__bpd_probe__["record"]("dvar", dvar)`, added after the backward's statement."""
    return _call_statement("record", ast.Constant(pair.adjoint), ast.Name(pair.adjoint, ast.Load()))


def shifted(pair: Pair) -> list[tuple[ast.stmt, ast.stmt]]:
    """`self.var = __bpd_probe__["shift"](self.var)`, added after each of the forward's statements binding it."""
    out = []
    for binding in pair.bindings:
        target = binding.targets[0]
        out.append((binding, ast.Assign(targets=[_stored(target)], value=_call("shift", _loaded(target)), lineno=0)))
    return out


def injected(pair: Pair) -> ast.stmt:
    """`dvar = __bpd_probe__["inject"](dvar)`, added after the backward's statement."""
    return ast.Assign(targets=[ast.Name(pair.adjoint, ast.Store())], value=_call("inject", ast.Name(pair.adjoint, ast.Load())), lineno=0)


def with_after(function: FunctionNode, added: list[tuple[ast.stmt, ast.stmt]]) -> FunctionNode:
    """A copy of `function` with each `(statement, new)` of `added` putting `new` right after `statement` (a
    node of `function`) in its block."""
    import copy

    memo: dict[int, object] = {}
    changed = copy.deepcopy(function, memo)
    for statement, new in added:
        twin = memo[id(statement)]
        for node in walk(changed):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if isinstance(block, list) and any(s is twin for s in block):
                    block.insert(next(i for i, s in enumerate(block) if s is twin) + 1, new)
    return ast.fix_missing_locations(changed)


def _call(key: str, *args: ast.expr) -> ast.expr:
    return ast.Call(func=ast.Subscript(ast.Name(PROBE, ast.Load()), ast.Constant(key), ast.Load()), args=list(args), keywords=[])


def _call_statement(key: str, *args: ast.expr) -> ast.stmt:
    return ast.Expr(_call(key, *args))


def _loaded(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Name):
        return ast.Name(target.id, ast.Load())
    assert isinstance(target, ast.Attribute)
    return ast.Attribute(_loaded(target.value), target.attr, ast.Load())


def _stored(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Name):
        return ast.Name(target.id, ast.Store())
    assert isinstance(target, ast.Attribute)
    return ast.Attribute(_loaded(target.value), target.attr, ast.Store())


def _statements(function: FunctionNode) -> list[ast.stmt]:
    """The function's statements, nested ones included (not those of functions or classes inside it), in source order."""
    out: list[ast.stmt] = []

    def visit(block: list[ast.stmt]) -> None:
        for s in block:
            out.append(s)
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list):
                    visit(inner)
            for handler in getattr(s, "handlers", []):
                visit(handler.body)

    visit(function.body)
    return out


def _in_loop(function: FunctionNode, statement: ast.stmt) -> bool:
    return any(
        isinstance(n, (ast.For, ast.AsyncFor, ast.While)) and n.lineno < statement.lineno <= (n.end_lineno or n.lineno)
        for n in _statements(function)
    )  # fmt: skip


def _key(target: ast.expr) -> str | None:
    """`var` of `var` and of `self.var`."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return target.attr
    return None


def _bound_once(forward: FunctionNode) -> dict[str, tuple[ast.Assign, ...]]:
    """Key -> the statements of `forward` binding it (`var = ...` or `self.var = ...`), outside loops: one, or one
    in each branch of an `if` that can run (`if mode == "train": ... else: ...`); a key bound twice on one path, in
    place, in a tuple or by both spellings is left out."""
    counts: dict[str, int] = {}
    single: dict[str, list[ast.Assign]] = {}
    spelled: dict[str, set[str]] = {}
    for s in _statements(forward):
        targets: list[ast.expr] = []
        if isinstance(s, ast.Assign):
            for t in s.targets:
                targets += list(t.elts) if isinstance(t, (ast.Tuple, ast.List)) else [t]
        elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
            targets = [s.target]
        elif isinstance(s, (ast.For, ast.AsyncFor, ast.With)):
            targets = [n for n in walk(s.target if isinstance(s, (ast.For, ast.AsyncFor)) else s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        for t in targets:
            key = _key(t)
            if key is None:
                continue
            counts[key] = counts.get(key, 0) + 1
            spelled.setdefault(key, set()).add(ast.unparse(t))
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and s.targets[0] is t and not _in_loop(forward, s):
                single.setdefault(key, []).append(s)
    arms = _arms(forward)
    return {
        key: tuple(found) for key, found in single.items()
        if counts[key] == len(found) and len(spelled[key]) == 1
        and all(_exclusive(arms[id(a)], arms[id(b)]) for i, a in enumerate(found) for b in found[i + 1 :])
    }  # fmt: skip


def _arms(function: FunctionNode) -> dict[int, tuple[tuple[int, str], ...]]:
    """Statement id -> the `if` arms it sits in, outermost first: (the `if`'s id, "body" or "orelse")."""
    out: dict[int, tuple[tuple[int, str], ...]] = {}

    def visit(block: list[ast.stmt], path: tuple[tuple[int, str], ...]) -> None:
        for s in block:
            out[id(s)] = path
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list):
                    visit(inner, (*path, (id(s), field)) if isinstance(s, ast.If) else path)
            for handler in getattr(s, "handlers", []):
                visit(handler.body, path)

    visit(function.body, ())
    return out


def _exclusive(one: tuple[tuple[int, str], ...], other: tuple[tuple[int, str], ...]) -> bool:
    """Whether two statements sit in different arms of one `if`, so that no run binds both."""
    arms = dict(one)
    return any(node in arms and arms[node] != arm for node, arm in other)


def _rebinds(function: FunctionNode) -> dict[str, int]:
    """How often each local name is bound in `function` (assignments, in-place changes, loop targets)."""
    counts: dict[str, int] = {}
    for n in walk(function):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            counts[n.id] = counts.get(n.id, 0) + 1
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            counts[n.target.id] = counts.get(n.target.id, 0) + 1
    return counts


def _copies_parameter(value: ast.expr, parameters: set[str]) -> bool:
    """`x`, `x.copy()`, `np.array(x)` of an argument of the forward."""
    if isinstance(value, ast.Name):
        return value.id in parameters
    if isinstance(value, ast.Call) and not value.keywords:
        if isinstance(value.func, ast.Attribute) and value.func.attr == "copy" and not value.args:
            return _copies_parameter(value.func.value, parameters)
        if len(value.args) == 1 and ast.unparse(value.func).rpartition(".")[2] in ("array", "copy", "asarray"):
            return _copies_parameter(value.args[0], parameters)
    return False
