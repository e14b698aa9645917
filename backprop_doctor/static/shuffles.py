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
import copy
import re
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
    named: int | None = None  # the line to change, when the batches are taken by two statements (`across`)
    fix: str | None = None  # what to write there (`y_train = y_train[perm]`)
    batch_lines: tuple[int, ...] = ()  # the statements that take the two batches
    through: bool = False  # the inputs' batch is taken through the permutation (`X[idx[:b]]`), not from a shuffled array
    alias: tuple[int, str] | None = None  # (line, statement): the targets bound to the unshuffled array (`y_shuf = y`)


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
    tracked = _track(statements)
    found = _in_statements(statements, tracked)
    if found is not None:
        return found
    return _across(scope, statements, tracked)


_Tracked = tuple[dict[str, int], dict[str, tuple[int, str, "str | None"]], dict[str, str], dict[str, str]]


def _track(statements: list[ast.stmt]) -> _Tracked:
    """The permutations a scope draws, the arrays it shuffles (name -> (line, statement, permutation)), its
    aliases (`ys = y`) and the array each shuffled one was taken from."""
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
    return permutations, shuffled, aliases, sources


def _in_statements(statements: list[ast.stmt], tracked: _Tracked) -> Unshuffled | None:
    permutations, shuffled, aliases, sources = tracked
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


# the names targets go by (`y`, `yb`, `y_train`, `t`, `targets`, `labels`): a plain batch taken beside shuffled inputs
# by another statement is read as their targets only under such a name, or when one statement reads both batches
_TARGET = re.compile(r"(?i)y\w*|t|ts|tb|t_\w+|targets?\w*|labels?\w*|answers?\w*")
_COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class _Take:
    """One batch a statement takes: `xb = X_train[start:start + batch]`, `X[idx[:b]]`."""

    stmt: ast.stmt
    node: ast.Subscript
    array: str  # "X_train"
    key: str  # "start:start + batch": the slice of the samples (of the permutation, for `X[idx[:b]]`)
    via: str | None  # "idx" when the batch is taken through a permutation (`X[idx[:b]]`, `X[bi]` of `bi = idx[:b]`)
    bound: str | None  # "xb" when the statement binds the batch to a name


def _across(scope: Scope, statements: list[ast.stmt], tracked: _Tracked) -> Unshuffled | None:
    """Two statements of one block taking the same batch (`xb = X_train[s:s + b]`, then `yb = y_train[s:s + b]`), the
    first from inputs shuffled (`X_train = X_train[perm]`, `np.random.shuffle(X)`) or through a permutation
    (`X[idx[:b]]`) and the second from targets taken in their stored order (`y[:b]`), both batches handed on together by
    a later statement (`model.loss(xb, yb)`, `yield xb, yb`) or the second under a target's name. Named where the change belongs: the shuffle,
    or the targets' batch taken without the permutation."""
    permutations, shuffled, aliases, sources = tracked
    orders = set(permutations) | {
        t.id for stmt in statements if isinstance(stmt, ast.Assign)
        for t in stmt.targets if isinstance(t, ast.Name) and isinstance(stmt.value, ast.Call)
        and ast.unparse(stmt.value.func).rpartition(".")[2] in ("arange", "range", "list") and t.id in shuffled
    }  # fmt: skip  # `idx = np.arange(n)` then `np.random.shuffle(idx)`
    if not shuffled and not orders:
        return None
    index_of: dict[str, tuple[str, str]] = {}  # `bi = idx[i:i + b]`: (permutation, slice)
    for stmt in statements:
        for name, value in _pairs(stmt):
            if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in orders and isinstance(value.slice, ast.Slice):
                index_of[name.id] = (value.value.id, ast.unparse(value.slice))
    block = _blocks(scope)
    takes = [t for stmt in statements if not isinstance(stmt, _COMPOUND) for t in _takes(stmt, orders, index_of)]

    def inputs(t: _Take) -> bool:
        return t.via is not None or (t.array in shuffled and shuffled[t.array][0] < t.stmt.lineno)

    moved = set(shuffled) | orders | set(index_of)
    rewritten = {  # `answers[:] = answers[order]`: an array rewritten in place moves every alias of it
        t.value.id for stmt in statements if isinstance(stmt, (ast.Assign, ast.AugAssign))
        for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]) if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
    }  # fmt: skip

    def targets(t: _Take) -> bool:
        if t.via is not None or t.array in moved:
            return False
        return t.array not in aliases or not set(_chain(t.array, aliases)) & (moved | rewritten)  # `ys = y`: an alias of an array nothing moves

    for x in (t for t in takes if inputs(t)):
        for y in (t for t in takes if targets(t) and t.key == x.key and block.get(id(t.stmt)) == block.get(id(x.stmt))):
            source = sources.get(x.array, x.array) if x.via is None else x.array
            if {y.array, _unaliased(y.array, aliases)} & {x.array, source} or not _paired(x, y, statements):
                continue
            alias = _alias_statement(statements, y.array, y.stmt.lineno) if y.array in aliases else None
            return _across_finding(x, y, shuffled, sources, alias)
    return _drawn_apart(statements, takes, block, shuffled, permutations, sources)


def _drawn_apart(
    statements: list[ast.stmt], takes: list[_Take], block: dict[int, int], shuffled: dict[str, tuple[int, str, str | None]],
    permutations: dict[str, int], sources: dict[str, str],
) -> Unshuffled | None:
    """Two statements of one block taking the same batch (`xb = X[s:s + b]`, then `yb = y[s:s + b]`) from two arrays
    each shuffled by an order drawn for it alone (`np.random.shuffle(X)`, then `np.random.shuffle(y)`; `X = X[np.random
    .permutation(n)]` beside `y = y[np.random.permutation(n)]`), with no seed set again between the two draws: named at
    the second shuffle, where one permutation for both belongs."""

    def drawn(t: _Take) -> bool:
        entry = shuffled.get(t.array)
        return t.via is None and entry is not None and entry[0] < t.stmt.lineno and (entry[2] is None or entry[2] not in permutations)

    for x in (t for t in takes if drawn(t)):
        for y in (t for t in takes if drawn(t) and t.key == x.key and t.array != x.array and block.get(id(t.stmt)) == block.get(id(x.stmt))):
            first, second = shuffled[x.array], shuffled[y.array]
            if first[0] >= second[0] or first[1] == second[1] or _reseeded(statements, first[0], second[0]) or not _paired(x, y, statements):
                continue
            lines = tuple(sorted({x.stmt.lineno, y.stmt.lineno}))
            name = m.group(1) if (m := re.search(r"shuffle\((\w+)\)", first[1])) else sources.get(x.array, x.array)
            target = m.group(1) if (m := re.search(r"shuffle\((\w+)\)", second[1])) else sources.get(y.array, y.array)
            fix = (
                f"draw one permutation and index both with it, in place of the two shuffles (`perm = np.random.permutation(len({name}))`, "
                f"then `{name}, {target} = {name}[perm], {target}[perm]`)"
            )
            return Unshuffled(
                x.array, first[0], first[1], y.array, y.stmt.lineno, f"[{x.key}]", None, sources.get(y.array),
                other=(second[0], second[1]), named=second[0], fix=fix, batch_lines=lines,
            )  # fmt: skip
    return None


def _blocks(scope: Scope) -> dict[int, int]:
    """Each statement's block (the list of statements it is one of), by id."""
    found: dict[int, int] = {}
    pending: list[list[ast.stmt]] = [scope.body]
    while pending:
        body = pending.pop()
        for stmt in body:
            found[id(stmt)] = id(body)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                if getattr(stmt, field, None):
                    pending.append(getattr(stmt, field))
            pending += [h.body for h in getattr(stmt, "handlers", []) or []]
    return found


def _takes(stmt: ast.stmt, orders: set[str], index_of: dict[str, tuple[str, str]]) -> list[_Take]:
    bound = {id(value): name.id for name, value in _pairs(stmt)}
    found = []
    for node in walk(stmt):
        if not isinstance(node, ast.Subscript):
            continue
        base, index = node.value, node.slice
        if isinstance(base, ast.Name) and isinstance(index, ast.Slice):  # `X[s:s + b]`
            found.append(_Take(stmt, node, base.id, ast.unparse(index), None, bound.get(id(node))))
        elif isinstance(base, ast.Name) and isinstance(index, ast.Subscript) and isinstance(index.value, ast.Name) and index.value.id in orders and isinstance(index.slice, ast.Slice):
            found.append(_Take(stmt, node, base.id, ast.unparse(index.slice), index.value.id, bound.get(id(node))))  # `X[idx[:b]]`
        elif isinstance(base, ast.Name) and isinstance(index, ast.Name) and index.id in index_of:
            found.append(_Take(stmt, node, base.id, index_of[index.id][1], index_of[index.id][0], bound.get(id(node))))  # `X[bi]`
        elif (
            isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name) and isinstance(base.slice, ast.Name)
            and base.slice.id in orders and isinstance(index, ast.Slice)
        ):  # fmt: skip
            found.append(_Take(stmt, node, base.value.id, ast.unparse(index), base.slice.id, bound.get(id(node))))  # `X[idx][:b]`
    return found


def _paired(x: _Take, y: _Take, statements: list[ast.stmt]) -> bool:
    """Whether the two batches belong together: taken by one statement, read by one later statement, or the second
    under a target's name."""
    if x.stmt is y.stmt or _TARGET.fullmatch(y.array) or (y.bound is not None and _TARGET.fullmatch(y.bound)):
        return True
    if x.bound is None or y.bound is None:
        return False
    after = max(x.stmt.lineno, y.stmt.lineno)
    both = {x.bound, y.bound}
    return any(
        both <= {e.id for e in (n.args if isinstance(n, ast.Call) else n.elts) if isinstance(e, ast.Name)}
        for stmt in statements if stmt.lineno > after and not isinstance(stmt, _COMPOUND)
        for n in walk(stmt) if isinstance(n, (ast.Call, ast.Tuple))
    )  # fmt: skip  # handed on together (`model.loss(xb, yb)`, `yield xb, yb`), not only read by one formula


def _chain(name: str, aliases: dict[str, str]) -> list[str]:
    """A name and the arrays it is an alias of (`y_shuf = ys`, `ys = y`: y_shuf, ys, y)."""
    chain = [name]
    while chain[-1] in aliases and aliases[chain[-1]] not in chain:
        chain.append(aliases[chain[-1]])
    return chain


def _unaliased(name: str, aliases: dict[str, str]) -> str:
    """The array an alias names at the end of its chain."""
    return _chain(name, aliases)[-1]


def _alias_statement(statements: list[ast.stmt], name: str, before: int) -> ast.Assign | None:
    """The last `name = other` before line `before` (`y_shuf = y` beside `X_shuf = X[perm]`)."""
    found = None
    for stmt in statements:
        if stmt.lineno >= before:
            break
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name:
            found = stmt if isinstance(stmt.value, ast.Name) else None
    return found


def _across_finding(
    x: _Take, y: _Take, shuffled: dict[str, tuple[int, str, str | None]], sources: dict[str, str], alias: ast.Assign | None = None,
) -> Unshuffled:
    lines = tuple(sorted({x.stmt.lineno, y.stmt.lineno}))
    if x.via is not None:  # `xb = X[idx[:b]]` beside `yb = y[:b]`: the targets' batch is the line to change
        fixed = copy.deepcopy(x.node)
        fixed.value = ast.Name(y.array, ast.Load()) if isinstance(fixed.value, ast.Name) else fixed.value
        if isinstance(fixed.value, ast.Subscript):
            fixed.value.value = ast.Name(y.array, ast.Load())
        taken = ast.unparse(fixed)
        fix = f"`{y.bound} = {taken}`" if y.bound else f"`{taken}`"
        return Unshuffled(
            x.array, x.stmt.lineno, ast.unparse(x.node), y.array, y.stmt.lineno, f"[{x.key}]", x.via,
            named=y.stmt.lineno, fix=f"index the targets with the same permutation ({fix})", batch_lines=lines, through=True,
        )  # fmt: skip
    line, text, index = shuffled[x.array]
    source = sources.get(x.array)
    if alias is not None and isinstance(alias.value, ast.Name):  # `y_shuf = y` beside `X_shuf = X[perm]`: the alias is the line to change
        plain = alias.value.id
        fix = (
            f"shuffle the targets with the same permutation (`{y.array} = {plain}[{index}]`"
            f"{f' beside line {line}, in place of line {alias.lineno}' if alias.lineno < line else ''})" if index is not None and " (line " not in index
            else f"shuffle both with one permutation (`perm = np.random.permutation(len({plain}))`, then index the inputs and `{y.array} = {plain}[perm]` with it)"
        )  # fmt: skip
        return Unshuffled(
            x.array, line, text, y.array, y.stmt.lineno, f"[{x.key}]", index, plain, named=alias.lineno, fix=fix,
            batch_lines=lines, alias=(alias.lineno, ast.unparse(alias)),
        )  # fmt: skip
    if index is not None and source == x.array:  # `X_train = X_train[perm]`: the targets rebound the same way beside it
        fix = f"shuffle the targets with the same permutation (`{y.array} = {y.array}[{index}]` beside line {line})"
    elif index is not None and source is not None and " (line " not in index:  # `Xs = X[perm]`: `ys = y[perm]` beside it
        suffix = x.array[len(source):] if x.array.startswith(source) and x.array != source else "_shuffled"
        fix = (
            f"shuffle the targets with the same permutation (`{y.array}{suffix} = {y.array}[{index}]` beside line {line}, "
            f"then take the batch from `{y.array}{suffix}`)"
        )
    else:  # `np.random.shuffle(X)`: one permutation for both
        shuffled_name = m.group(1) if (m := re.search(r"shuffle\((\w+)\)", text)) else x.array
        fix = (
            f"shuffle both with one permutation in place of `{text}` (`perm = np.random.permutation(len({shuffled_name}))`, "
            f"then `{shuffled_name}, {y.array} = {shuffled_name}[perm], {y.array}[perm]`)"
        )
    return Unshuffled(x.array, line, text, y.array, y.stmt.lineno, f"[{x.key}]", index, source, named=line, fix=fix, batch_lines=lines)


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
