"""Inputs shuffled without their targets.

A training loop that draws its minibatches from shuffled data must move each input and its target
together: `idx = np.random.permutation(n)`, then `X[idx]` and `y[idx]`. Shuffling the inputs alone
(`Xs = X[idx]` beside `ys = y`) pairs every input with another input's target. Every gradient is
right for the data the step is handed, and the loss still cannot fall. `unshuffled_targets` reads a
file for a batch taken the same way from a shuffled array and from one that was not shuffled;
nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

Scope = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef

_SHUFFLING = ("permutation", "shuffle")


@dataclass(frozen=True)
class Unshuffled:
    """`xb, yb = Xs[k:k + 20], ys[k:k + 20]` (line 14), `Xs` shuffled at line 11 and `ys` not."""

    shuffled: str  # "Xs"
    shuffled_line: int  # where it was shuffled
    shuffled_text: str  # `Xs = X[idx]`
    target: str  # "ys"
    line: int  # the statement that takes the same batch from both
    batch: str  # "[k:k + 20]"
    index: str | None  # "idx": the permutation to index the target with, when there is one
    source: str | None = None  # "y" of `ys = y`: the array the target is another name for
    other: tuple[int, str] | None = None  # (line, statement): the target shuffled too, by another permutation


def unshuffled_targets(tree: ast.Module | None) -> Unshuffled | None:
    """The first batch a scope takes the same way from a shuffled array and from an unshuffled one."""
    scopes: list[Scope] = [tree] if tree is not None else []
    scopes += [n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] if tree is not None else []
    for scope in scopes:
        found = _in_scope(scope)
        if found is not None:
            return found
    return None


def _own_statements(scope: Scope) -> list[ast.stmt]:
    """The statements of a scope, nested blocks included, without the functions and classes it defines."""
    found: list[ast.stmt] = []
    pending = list(scope.body)
    while pending:
        stmt = pending.pop(0)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        found.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            pending += getattr(stmt, field, []) or []
        for handler in getattr(stmt, "handlers", []) or []:
            pending += handler.body
    return sorted(found, key=lambda s: s.lineno)


def _pairs(stmt: ast.stmt) -> list[tuple[ast.Name, ast.expr]]:
    """The (name, value) bindings of an assignment: `Xs = X[idx]`, and each of `Xs, ys = X[idx], y[idx]`."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return []
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Name):
        return [(target, value)]
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return [(t, v) for t, v in zip(target.elts, value.elts) if isinstance(t, ast.Name)]
    return []


def _in_scope(scope: Scope) -> Unshuffled | None:
    statements = _own_statements(scope)
    permutations: dict[str, int] = {}
    for stmt in statements:  # `idx = np.random.permutation(n)`, `np.random.shuffle(idx)` of an arange
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and _permutes(stmt.value):
            permutations[stmt.targets[0].id] = stmt.lineno
    shuffled: dict[str, tuple[int, str, str | None]] = {}  # name -> (line, statement, permutation)
    aliases: dict[str, str] = {}  # `ys = y`
    sources: dict[str, str] = {}  # `Xs = X[idx]`: the array each shuffled one was taken from
    for stmt in statements:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Name):
            aliases[stmt.targets[0].id] = stmt.value.id
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and ast.unparse(call.func).rpartition(".")[2] == "shuffle" and call.args and isinstance(call.args[0], ast.Name):
            name = call.args[0].id
            if name not in permutations:  # `np.random.shuffle(X)`: the array itself, in place
                shuffled[name] = (stmt.lineno, ast.unparse(stmt), None)
            continue
        for name, value in _pairs(stmt):
            target = name.id
            if isinstance(value, ast.Name) and value.id in shuffled:
                shuffled[target] = shuffled[value.id]  # `Xs = X` after `np.random.shuffle(X)`
                continue
            if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
                used = {n.id for n in walk(value.slice) if isinstance(n, ast.Name)} & set(permutations)
                if used:
                    shuffled[target] = (stmt.lineno, f"{target} = {ast.unparse(value)}", sorted(used)[0])
                    sources[target] = value.value.id
                    continue
                inline = next((n for n in walk(value.slice) if _permutes(n)), None)
                if inline is not None:  # `y[rng.permutation(len(y))]`: a permutation of its own, drawn there
                    shuffled[target] = (stmt.lineno, f"{target} = {ast.unparse(value)}", f"{ast.unparse(inline)} (line {stmt.lineno}, col {inline.col_offset})")
                    sources[target] = value.value.id
                    continue
            read = sorted(n.id for n in walk(value) if isinstance(n, ast.Name) and n.id in shuffled)
            if read:  # `Y = one_hot(ys)` of shuffled `ys`: made from shuffled data, shuffled too
                shuffled[target] = shuffled[read[0]]
                continue
            if target in shuffled:
                del shuffled[target]  # bound again to something else
    if not shuffled:
        return None
    for stmt in statements:
        if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With, ast.Try)):
            continue
        batches = [n for n in walk(stmt) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and isinstance(n.slice, ast.Slice)]
        taken: dict[str, list[str]] = {}
        for node in batches:
            taken.setdefault(ast.unparse(node.slice), []).append(node.value.id)  # type: ignore[union-attr]
        for batch, names in taken.items():
            mixed = [n for n in names if n in shuffled and shuffled[n][0] < stmt.lineno]
            plain = [n for n in names if n not in shuffled and n not in permutations]
            if mixed and plain:
                line, text, index = shuffled[mixed[0]]
                return Unshuffled(mixed[0], line, text, plain[0], stmt.lineno, f"[{batch}]", index, aliases.get(plain[0]))
            keyed = [n for n in mixed if shuffled[n][2] is not None and shuffled[n][2] in permutations]  # by a permutation one can name
            apart = [n for n in mixed if shuffled[n][2] is not None and shuffled[n][2] != shuffled[(keyed or mixed)[0]][2]]
            if keyed and apart:  # two arrays, each shuffled by a permutation of its own
                line, text, index = shuffled[keyed[0]]
                other = shuffled[apart[0]]
                return Unshuffled(keyed[0], line, text, apart[0], stmt.lineno, f"[{batch}]", index, sources.get(apart[0]), (other[0], other[1]))
            # `X = X[np.random.permutation(N)]` and `y = y[np.random.permutation(N)]`, or `np.random.shuffle(X)` and
            # `np.random.shuffle(y)`: each draws an order of its own (unless the generator is seeded again between them)
            drawn = sorted({n for n in mixed if shuffled[n][2] is None or shuffled[n][2] not in permutations}, key=lambda n: shuffled[n][0])
            if len(drawn) > 1 and len({shuffled[n][0] for n in drawn}) > 1 and not _reseeded(statements, shuffled[drawn[0]][0], shuffled[drawn[-1]][0]):
                first, second = shuffled[drawn[0]], shuffled[drawn[-1]]
                return Unshuffled(drawn[0], first[0], first[1], drawn[-1], stmt.lineno, f"[{batch}]", None, sources.get(drawn[-1]), (second[0], second[1]))
    return None


def _permutes(value: ast.expr) -> bool:
    """`np.random.permutation(n)`, `rng.permutation(len(X))`, `np.random.choice(n, n, replace=False)`."""
    if not isinstance(value, ast.Call):
        return False
    name = ast.unparse(value.func).rpartition(".")[2]
    if name == "permutation":
        return True
    return name == "choice" and any(k.arg == "replace" and isinstance(k.value, ast.Constant) and k.value.value is False for k in value.keywords)


def _reseeded(statements: list[ast.stmt], after: int, before: int) -> bool:
    """Whether a statement between the two lines seeds a generator or sets its state again (`np.random.seed(0)`
    before each `np.random.shuffle`, `rng.set_state(state)`): the two shuffles then draw the same order."""
    return any(
        after < stmt.lineno <= before and any(
            isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] in ("seed", "set_state", "default_rng", "RandomState")
            for n in walk(stmt)
        )
        for stmt in statements
    )  # fmt: skip
