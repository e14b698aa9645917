"""Writes into arrays in place, and the lines that assign an attribute."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Iterable

from backprop_doctor.static.calls import _own_expressions, _root_name, _target_names
from backprop_doctor.static.definitions import _child_blocks
from backprop_doctor.static.text import _Text, _show, _source
from backprop_doctor.static.tree import DEFS as _DEFS, FunctionNode, walk


_MUTATING_ARRAY_METHODS = {"fill", "sort", "resize", "put", "itemset", "partition", "setfield"}
_MUTATING_FUNCTIONS = {"copyto", "put", "place", "putmask", "fill_diagonal", "shuffle"}  # change their 1st argument
_VIEW_METHODS = {"reshape", "view", "ravel", "transpose", "swapaxes", "squeeze", "T"}


def _is_alias(node: ast.AST, aliases: set[str]) -> bool:
    """Whether an expression is the array itself or a view of it (`x`, `x.T`, `x.reshape(...)`, `x[:, 0]`)."""
    if isinstance(node, ast.Name):
        return node.id in aliases
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return _is_alias(node.value, aliases)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _VIEW_METHODS:
        return _is_alias(node.func.value, aliases)
    if isinstance(node, ast.Subscript):
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        basic = all(
            isinstance(p, ast.Slice)
            or (isinstance(p, ast.Constant) and (p.value is Ellipsis or p.value is None or type(p.value) is int))
            for p in parts
        )
        return basic and _is_alias(node.value, aliases)
    return False


def _writes_target(target: ast.AST, aliases: set[str]) -> bool:
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_writes_target(e, aliases) for e in target.elts)
    if isinstance(target, ast.Starred):
        return _writes_target(target.value, aliases)
    if isinstance(target, ast.Subscript):  # `self.dinputs[mask] = 0` after `self.dinputs = dvalues`
        base = target.value
        while isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, ast.Attribute) and ast.unparse(base) in aliases:
            return True
    return isinstance(target, (ast.Subscript, ast.Attribute)) and _root_name(target) in aliases


def _writes_through_call(expression: ast.AST, aliases: set[str]) -> bool:
    for node in walk(expression):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "out":
                outs = keyword.value.elts if isinstance(keyword.value, ast.Tuple) else [keyword.value]
                if any(_root_name(o) in aliases for o in outs):
                    return True
        func = node.func
        if not isinstance(func, ast.Attribute):
            continue
        if func.attr in _MUTATING_ARRAY_METHODS and _root_name(func.value) in aliases and not _is_module(func.value):
            return True
        changes_first = func.attr in _MUTATING_FUNCTIONS or func.attr == "at"
        if changes_first and node.args and _root_name(node.args[0]) in aliases:
            return True
    return False


def _is_module(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in {"np", "numpy", "random"}


def _statement_text(stmt: ast.stmt, src: _Text | None) -> str:
    if isinstance(stmt, (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try, ast.Match)):
        if src is not None:
            return src.line(stmt.lineno).strip()
        return ast.unparse(stmt).splitlines()[0]
    return _show(stmt, src).strip()


def inplace_writes(function_node: FunctionNode, arg_name: str, *, text: str | None = None) -> list[tuple[int, str]]:
    """(line, statement) for every statement of a function that writes into its argument `arg_name`.

    Writes through `x[...] = `, `x.attr = `, `x -= `, `out=x`, `x.fill(...)`,
    `np.copyto(x, ...)`, `np.add.at(x, ...)`, also through an alias or view
    (`dx = dout` then `dx[mask] = 0`; `self.dinputs = dvalues` then `self.dinputs[mask] = 0`).  Rebinding the name (`x = x.copy()`)
    ends the tracking: later writes go to a new array.
    """
    src = _source(text)
    aliases = {arg_name}
    found: dict[int, str] = {}

    def record(stmt: ast.stmt):
        found.setdefault(stmt.lineno, _statement_text(stmt, src))

    def visit_block(stmts: list[ast.stmt]):
        for stmt in stmts:
            if isinstance(stmt, _DEFS):
                continue
            if any(_writes_through_call(e, aliases) for e in _own_expressions(stmt)):
                record(stmt)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(_writes_target(t, aliases) for t in targets):
                    record(stmt)
                alias = _is_alias(stmt.value, aliases)
                for target in targets:
                    if isinstance(target, ast.Name):
                        (aliases.add if alias else aliases.discard)(target.id)
                    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in ("self", "cls"):
                        (aliases.add if alias else aliases.discard)(ast.unparse(target))  # `self.dinputs = dvalues`
                    else:
                        for name in _target_names(target):
                            aliases.discard(name)
            elif isinstance(stmt, ast.AugAssign):
                target = stmt.target
                aliased = isinstance(target, ast.Name) and target.id in aliases
                if aliased or (isinstance(target, ast.Attribute) and ast.unparse(target) in aliases) or _writes_target(target, aliases):
                    record(stmt)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                for name in _target_names(stmt.target):
                    aliases.discard(name)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        for name in _target_names(item.optional_vars):
                            aliases.discard(name)
            for block in _child_blocks(stmt):
                visit_block(block)

    visit_block(function_node.body)
    return sorted(found.items())


def assigning_lines(function_node: FunctionNode, target_attr: str) -> list[int]:
    """Lines of a function that assign an attribute (`self.mask = ...`, `self.mask[i] = ...`, `self.W -= ...`).

    `target_attr` is the attribute name ("mask") or a dotted path ("self.mask").
    """

    def matches(node: ast.AST) -> bool:
        while isinstance(node, ast.Subscript):
            node = node.value
        if not isinstance(node, ast.Attribute):
            return False
        return ast.unparse(node) == target_attr if "." in target_attr else node.attr == target_attr

    def flatten(target: ast.AST) -> list[ast.AST]:
        if isinstance(target, (ast.Tuple, ast.List)):
            return [t for e in target.elts for t in flatten(e)]
        if isinstance(target, ast.Starred):
            return flatten(target.value)
        return [target]

    lines = set()
    for node in walk(function_node):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(matches(t) for target in targets for t in flatten(target)):
            lines.add(node.lineno)
    return sorted(lines)


# The statements of one live function, parsed from the lines `inspect` gives (`locate` turns them into
# locations in the file: a line here is relative to the function's first line).


def function_tree(lines: list[str]) -> ast.Module | None:
    """The parsed, dedented source of one function or class (None when it does not parse alone)."""
    try:
        return ast.parse(textwrap.dedent("".join(lines)))
    except (SyntaxError, ValueError):
        return None


def first_function(tree: ast.AST) -> FunctionNode | None:
    """The outermost def in `tree`."""
    return next((n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)


def positional_parameters(function: FunctionNode) -> list[str]:
    """The positional parameters of a def, without `self` and `cls`."""
    return [a.arg for a in function.args.posonlyargs + function.args.args if a.arg not in ("self", "cls")]


def assignment_statement(tree: ast.AST, targets: tuple[str, ...], ran: set[int] | None = None, whole: bool = False) -> ast.stmt | None:
    """The last statement that assigns the first of `targets` assigned in `tree` (`dx`, `self.db`, `x[...]`).

    `ran` (line numbers of `tree` that executed) narrows the choice to the branch
    that ran; `whole`: the last that assigns all of it, when one does (a cost function's
    `Theta1_grad = delta2.T @ a1 / m`, not the penalty added to its columns after it,
    `Theta1_grad[:, 1:] += lambda_ / m * Theta1[:, 1:]`). Falls back to the last `return` (of those
    that ran, when `ran` says), then None.
    """
    assignments = [n for n in walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    if whole:
        full = [n for n in assignments if isinstance(n, ast.Assign) and any(ast.unparse(t) in targets for t in n.targets)]
        assignments = full or assignments
    best: ast.stmt | None = None
    if ran:  # prefer the assignments that actually ran (one branch of an if/else)
        executed = [n for n in assignments if n.lineno in ran]
        assignments = executed or assignments
    for wanted in targets:  # in order of preference: the first target that is assigned wins
        for node in assignments:
            node_targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            texts = [ast.unparse(t) for t in node_targets]
            if (
                any(text == wanted or text.startswith(wanted + "[") for text in texts)
                or any(_built_key(t, wanted) for t in node_targets)
                or _literal_key(node, wanted)
            ):
                if best is None or node.lineno > best.lineno:
                    best = node
        if best is not None:
            break
    if best is None:
        best = _last_grown(tree, targets, ran)
    if best is None:
        returns = [n for n in walk(tree) if isinstance(n, ast.Return)]
        if ran:  # `elif self.name == 'tanh': return grad * ...`: the branch's return that ran, not the method's last
            returns = [n for n in returns if n.lineno in ran] or returns
        best = max(returns, key=lambda n: n.lineno) if returns else None
    return best


def _last_grown(tree: ast.AST, targets: tuple[str, ...], ran: set[int] | None) -> ast.stmt | None:
    """The last statement that grows the first of `targets` grown in `tree`, a list never assigned but
    filled entry by entry (`gc.insert(0, d.sum(0))`, `grads.append(dW)`), of those that ran when `ran` says."""
    grown = [
        n for n in walk(tree)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute)
        and n.value.func.attr in ("append", "insert", "extend")
    ]  # fmt: skip
    if ran:
        grown = [n for n in grown if n.lineno in ran] or grown
    for wanted in targets:
        found = [n for n in grown if ast.unparse(n.value.func.value) == wanted]  # type: ignore[attr-defined]
        if found:
            return max(found, key=lambda n: n.lineno)
    return None


def _literal_key(node: ast.stmt, wanted: str) -> bool:
    """`grads = {"W2": ..., "b2": ...}` for the wanted target `grads['b2']`: the entry is written in
    the dict literal the name is bound to."""
    try:
        target = ast.parse(wanted, mode="eval").body
    except SyntaxError:
        return False
    if not (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)):
        return False
    if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)):
        return False
    name = ast.unparse(target.value)
    keys = [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
    return any(ast.unparse(t) == name for t in node.targets) and target.slice.value in keys


def _built_key(target: ast.AST, wanted: str) -> bool:
    """`grads["db" + str(n)] = ...` (or `grads[f"db{n}"]`) for the wanted target "['db' +]": an entry
    whose key is built from that literal stem and a layer number."""
    if not (wanted.startswith("['") and wanted.endswith("' +]") and isinstance(target, ast.Subscript)):
        return False
    key, stem = target.slice, wanted[2:-4]
    if isinstance(key, ast.JoinedStr):  # `grads[f"W{i}"]`
        return len(key.values) == 2 and isinstance(key.values[0], ast.Constant) and key.values[0].value == stem
    return isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add) and isinstance(key.left, ast.Constant) and key.left.value == stem


def first_assignment_line(tree: ast.AST, targets: Iterable[str]) -> int | None:
    """The first line that assigns one of `targets` exactly (as `ast.unparse` spells them)."""
    wanted = set(targets)
    best = None
    for node in walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            node_targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(ast.unparse(t) in wanted for t in node_targets):
                if best is None or node.lineno < best:
                    best = node.lineno
    return best


def accumulation_statement(tree: ast.AST) -> ast.AugAssign | ast.Assign | None:
    """The first `self.<attr> += ...` (or `-=`), or `self.<attr> = self.<attr> + ...` that rebinds
    an attribute to a sum or difference with its own value: state that grows call after call."""
    for node in sorted(walk(tree), key=lambda n: getattr(n, "lineno", 0)):
        if isinstance(node, ast.AugAssign) and ast.unparse(node.target).startswith("self."):
            return node
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and _grows_itself(node.targets[0], node.value):
            return node
    return None


def _grows_itself(target: ast.expr, value: ast.expr) -> bool:
    """`self.dW = self.dW + g` (or `g + self.dW`, `self.dW - g`)."""
    name = ast.unparse(target)
    if not name.startswith("self.") or not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub))):
        return False
    sides = [value.left] + ([value.right] if isinstance(value.op, ast.Add) else [])
    return any(ast.unparse(side) == name for side in sides)


def returned_name(tree: ast.AST) -> str | None:
    """The name a function returns as its input gradient (`return dx` → "dx"; the first of a tuple,
    after the loss a loss function returns first: `return loss, dx` → "dx", whose line a wrong
    gradient is then shown at, not the loss's)."""
    for node in walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            if len(values) > 1 and _is_loss_name(values[0]):
                values = values[1:]
            if values and isinstance(values[0], ast.Name):
                return values[0].id
    return None


def returned_names(tree: ast.AST) -> list[str]:
    """Every plain name a function returns, alone or in a tuple (`return loss, G` → ["loss", "G"])."""
    found: list[str] = []
    for node in walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            found += [v.id for v in values if isinstance(v, ast.Name)]
    return list(dict.fromkeys(found))


def keyed_names(tree: ast.AST) -> set[str]:
    """The names a function binds to a dict (`G = {}`, `dict(...)`, a comprehension) or writes an entry of
    (`G["W1"] = ...`, `grads[k] += ...`): the ones a gradient may be stored under its parameter's key in."""
    found: set[str] = set()
    for node in walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                found.add(target.value.id)
            elif isinstance(target, ast.Name) and (
                isinstance(value, (ast.Dict, ast.DictComp)) or isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
            ):
                found.add(target.id)
    return found


def _is_loss_name(node: ast.expr) -> bool:
    """`loss`, `data_loss`, `cost`, `nll`, `J`: a name that holds the scalar a loss function returns."""
    return isinstance(node, ast.Name) and (any(word in node.id.lower() for word in ("loss", "cost", "nll")) or node.id in ("J", "j"))


def overwritten_windows(
    tree: ast.AST, line: int, elsewhere: Callable[[str], ast.AST | None] | None = None
) -> tuple[str, int, str] | None:
    """(function, line, target) when the statement at `line` calls a function of the file (`col2im`)
    that writes each window of a loop into a slice of one array with `=` (`xp[:, :, i:i + oh, j:j + ow] =
    cols[:, :, i, j]`, the book's `img[:, :, y:y_max:stride, x:x_max:stride] = col[:, :, y, x, :, :]`):
    windows that overlap must add into the cells they share (`+=`), an assignment keeps the last one's.
    Only slices whose bounds move with the loop's variables count. `elsewhere(name)`: the parsed file
    that defines a function the file imports (the book's `layers.py` calling `util.py`'s `col2im`),
    where the file does not define it; the line returned is then that file's."""
    called = {
        n.func.id for stmt in ast.walk(tree) if isinstance(stmt, ast.stmt) and not isinstance(stmt, _DEFS) and stmt.lineno == line
        for n in ast.walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }  # fmt: skip
    defined = {n.name for n in ast.walk(tree) if isinstance(n, _DEFS)}
    trees = [tree, *(t for name in sorted(called - defined) if elsewhere is not None and (t := elsewhere(name)) is not None)]
    for function in (n for t in trees for n in ast.walk(t) if isinstance(n, _DEFS) and n.name in called):
        moving = {t.id for loop in ast.walk(function) if isinstance(loop, ast.For) for t in ast.walk(loop.target) if isinstance(t, ast.Name)}
        looped = {id(n): n for loop in ast.walk(function) if isinstance(loop, ast.For) for n in ast.walk(loop) if isinstance(n, ast.Assign)}
        for stmt in sorted(looped.values(), key=lambda n: n.lineno):
            target = stmt.targets[0] if len(stmt.targets) == 1 else None
            if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)):
                continue
            parts = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
            windows = [p for p in parts if isinstance(p, ast.Slice) and (p.lower is not None or p.upper is not None)]
            if windows and all(any(isinstance(n, ast.Name) and n.id in moving for n in ast.walk(p)) for p in windows):
                return function.name, stmt.lineno, ast.unparse(target)
    return None


def made_from(assignments: Iterable[ast.Assign | ast.AugAssign], names: Iterable[str]) -> set[str]:
    """`names` and every name they are computed from through `assignments`, followed back as far as
    they go (`dh = dout @ W.T` with `dout = 2 * (out - y_true)`: dout, W, out, y_true)."""
    assignments = list(assignments)
    found = set(names)
    pending = list(found)
    while pending:
        name = pending.pop()
        for stmt in assignments:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == name for target in targets for t in ast.walk(target)):
                for read in {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)} - found:
                    found.add(read)
                    pending.append(read)
    return found


def overwritten_sum(tree: ast.Module, line: int) -> tuple[str, int, int] | None:
    """(name, line, start line) of a sum the statement at `line` is computed from (through the
    assignments of its function) that a loop overwrites instead of adding to: `s = 0.0`, then
    `for k in ...: s = w2[j][k] * do[k]` (not `s += ...`), then `s` read after the loop."""
    from backprop_doctor.static.steps import _scope_of

    scope = _scope_of(tree, line)
    assignments = [n for n in ast.walk(scope) if isinstance(n, (ast.Assign, ast.AugAssign))]
    start = next((n for n in assignments if n.lineno == line), None)
    if start is None:
        return None
    needed = made_from(assignments, {n.id for n in ast.walk(start.value) if isinstance(n, ast.Name)})
    for block in (b for node in ast.walk(scope) for b in _child_blocks(node)):
        for before, loop in zip(block, block[1:]):
            if not (isinstance(loop, ast.For) and isinstance(before, ast.Assign) and len(before.targets) == 1 and isinstance(before.targets[0], ast.Name)):
                continue
            name = before.targets[0].id
            if name not in needed or not (isinstance(before.value, ast.Constant) and before.value.value == 0):
                continue
            for stmt in ast.walk(loop):
                if (
                    isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                    and stmt.targets[0].id == name and name not in {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
                ):  # fmt: skip
                    return name, stmt.lineno, before.lineno
    return None


def added_twice(tree: ast.AST, line: int) -> tuple[int, str] | None:
    """(earlier line, statement) when the `+=` (or `-=`) at `line` repeats, word for word, an earlier
    statement of the same block, with neither its target nor anything it reads rebound between the two
    (`dby += dy` at one line and again two lines on): the sum takes the same term twice."""
    for block in (b for node in ast.walk(tree) for b in _child_blocks(node)):
        at = next((i for i, stmt in enumerate(block) if stmt.lineno == line), None)
        if at is None:
            continue
        stmt = block[at]
        if not (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub))):
            return None
        watched = {ast.unparse(n) for n in ast.walk(stmt) if isinstance(n, (ast.Name, ast.Attribute))}  # `dy`, `self.db`
        shape = ast.dump(stmt)
        for back in range(at - 1, -1, -1):
            earlier = block[back]
            if ast.dump(earlier) == shape:
                return earlier.lineno, ast.unparse(stmt)
            changed = _rooted(earlier)
            if not isinstance(earlier, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or any(w == c or w.startswith(f"{c}.") for w in watched for c in changed):
                return None  # a term rebound or changed in place (or a call, a branch, a loop) between the two: they need not be one term
        return None
    return None


def _rooted(stmt: ast.Assign | ast.AugAssign | ast.AnnAssign) -> set[str]:
    """What a statement binds or changes in place: names and attributes (`dy` of `dy[k] -= 1`, `self.h` of `self.h[0] = ...`)."""
    found = set()
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    for node in (n for target in targets for n in ([*target.elts] if isinstance(target, (ast.Tuple, ast.List)) else [target])):
        while isinstance(node, (ast.Subscript, ast.Starred)):
            node = node.value
        if isinstance(node, (ast.Name, ast.Attribute)):
            found.add(ast.unparse(node))
    return found


def indexed_add(tree: ast.AST, line: int) -> tuple[str, str, str] | None:
    """(target, index, value) of an indexed `+=` at `line` whose index is a plain name or an attribute of
    one (`demb[docs] += dvecs`, `dE[self.ids] += dtok`): NumPy adds once per distinct index there, however
    often one repeats."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.AugAssign) and node.lineno == line and isinstance(node.op, ast.Add)
            and isinstance(node.target, ast.Subscript) and _named(node.target.slice)
        ):  # fmt: skip
            return ast.unparse(node.target.value), ast.unparse(node.target.slice), ast.unparse(node.value)
    return None


def stored_indexed_add(tree: ast.AST, line: int) -> tuple[int, str, str, str] | None:
    """(its line, target, index, value) of the indexed `+=` that fills the name the statement at `line` only
    stores (`self.grads["E"] = dE` after `dE[self.idx] += g`, in the same function, no other write of `dE`
    between them): the gradient is made at the `+=`, the store only hands it on."""
    function = max(
        (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= line <= (n.end_lineno or n.lineno)),
        key=lambda n: n.lineno, default=None,
    )  # fmt: skip
    store = next((n for n in ast.walk(function) if isinstance(n, ast.Assign) and n.lineno == line), None) if function is not None else None
    if store is None or not isinstance(store.value, ast.Name):
        return None
    name = store.value.id
    writes = [
        n for n in ast.walk(function) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno < line
        and any(isinstance(t, ast.Name) and t.id == name or isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
    ]  # fmt: skip
    last = max(writes, key=lambda n: n.lineno, default=None)
    added = indexed_add(tree, last.lineno) if isinstance(last, ast.AugAssign) else None
    return (last.lineno, *added) if added is not None and added[0] == name else None


def filled_indexed_add(tree: ast.AST, line: int) -> tuple[int, str, str, str] | None:
    """(its line, target, index, value) of the indexed `+=` that fills the array the statement at `line`
    starts (`self.grad = np.zeros_like(self.weight)`, then `self.grad[self.ids] += demb`), the next write
    of that target in the same function: the gradient is made at the `+=`, the start only sizes it."""
    function = max(
        (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= line <= (n.end_lineno or n.lineno)),
        key=lambda n: n.lineno, default=None,
    )  # fmt: skip
    start = next((n for n in ast.walk(function) if isinstance(n, ast.Assign) and n.lineno == line and len(n.targets) == 1), None) if function is not None else None
    if start is None or not isinstance(start.targets[0], (ast.Name, ast.Attribute)):
        return None
    target = ast.unparse(start.targets[0])
    later = sorted(
        (n for n in ast.walk(function) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno > line
         and any(ast.unparse(t) == target or isinstance(t, ast.Subscript) and ast.unparse(t.value) == target
                 for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))),
        key=lambda n: n.lineno,
    )  # fmt: skip
    added = indexed_add(tree, later[0].lineno) if later and isinstance(later[0], ast.AugAssign) else None
    return (later[0].lineno, *added) if added is not None and added[0] == target else None


def _named(node: ast.AST) -> bool:
    """`ids`, `self.ids`, `batch.tokens`: a name, or attributes read off one."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def handed_otherwise(tree: ast.Module, prefix: Iterable[ast.stmt], function: str, line: int, reads: Iterable[str], loss: str) -> list[tuple[str, int, str, str]]:
    """(parameter, call line, argument given, argument the loss gives) for each parameter of `function`
    that the statement at its `line` is computed from (`reads` and what they are made of before it) and
    that the call in `prefix` hands another argument than the loss call `loss` gives its function's
    parameter of the same name: `backward(params, recon, cache, X_noisy)` beside
    `reconstruction_loss(recon, X)`, both naming it `target`."""
    try:
        loss_call = ast.parse(loss, mode="eval").body
    except SyntaxError:
        return []
    if not isinstance(loss_call, ast.Call):
        return []
    definitions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    called = next((n for stmt in prefix for n in ast.walk(stmt) if isinstance(n, ast.Call) and _callee(n) == function), None)
    if called is None or function not in definitions or _callee(loss_call) not in definitions:
        return []
    definition = definitions[function]
    given, expected = _arguments(definition, called), _arguments(definitions[_callee(loss_call)], loss_call)
    before = [n for n in ast.walk(definition) if isinstance(n, ast.Assign) and n.lineno < line]
    return [
        (parameter, called.lineno, given[parameter], expected[parameter])
        for parameter in sorted(made_from(before, reads))
        if parameter in given and parameter in expected and given[parameter] != expected[parameter]
    ]


def _callee(call: ast.Call) -> str:
    """`f` of `f(x)`, `backward` of `net.backward(x)`."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _arguments(definition: FunctionNode, call: ast.Call) -> dict[str, str]:
    """Each parameter of `definition` the call names, with the argument's text (a method's `self` left out)."""
    names = [a.arg for a in definition.args.args]
    if names[:1] == ["self"] and isinstance(call.func, ast.Attribute):
        names = names[1:]
    bound = {name: ast.unparse(value) for name, value in zip(names, call.args) if not isinstance(value, ast.Starred)}
    bound.update({k.arg: ast.unparse(k.value) for k in call.keywords if k.arg is not None})
    return bound


def rebound_gradients(tree: ast.AST) -> list[tuple[str, str, int, int]]:
    """Gradient arrays a class makes once and later replaces: `self.dW = np.zeros_like(self.W)` in
    `__init__`, then `self.dW = self.x.T @ dout` in `backward`. Whatever was handed the first array
    (an optimizer given `list(model.grads())`) keeps reading its zeros. (class, attribute, the line that
    replaces it, the line that made it), in source order."""
    from backprop_doctor.static.updates import _GRADIENT

    found = []
    for cls in (n for n in walk(tree) if isinstance(n, ast.ClassDef)):
        methods = [m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
        made = {
            stmt.targets[0].attr: stmt.lineno
            for m in methods if m.name == "__init__" for stmt in walk(m)
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute)
            and isinstance(stmt.targets[0].value, ast.Name) and stmt.targets[0].value.id == "self"
            and isinstance(stmt.value, ast.Call) and ast.unparse(stmt.value.func).rpartition(".")[2] in ("zeros_like", "zeros", "empty_like", "empty")
            and _GRADIENT.fullmatch(stmt.targets[0].attr)
        }  # fmt: skip
        for method in (m for m in methods if m.name != "__init__"):
            for stmt in walk(method):
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(target := stmt.targets[0], ast.Attribute):
                    if isinstance(target.value, ast.Name) and target.value.id == "self" and target.attr in made and not _seed(stmt.value):
                        found.append((cls.name, target.attr, stmt.lineno, made[target.attr]))
    return sorted(found, key=lambda f: f[2])


def _seed(value: ast.expr) -> bool:
    """`np.ones_like(self.data)`, `1.0`: the gradient an autograd engine's `backward()` starts from at the
    output node (a `Tensor` whose `grad` its `__init__` made with `np.zeros_like`), not a gradient computed
    into a new array that an optimizer holding the old one would miss."""
    if isinstance(value, ast.Constant):
        return value.value == 1
    return isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] in ("ones_like", "ones")


def returned_indexed_add(tree: ast.AST, line: int, gradient: str) -> tuple[int, str, str, str, str] | None:
    """An indexed `+=` inside the function whose result line `line` unpacks into `gradient`
    (`loss, gi, go = sgns(W_in, W_out, c, o, neg)`, and in `sgns`, `gW_out[negatives] += ...` into the
    `gW_out` it returns as `go`): (its line, the target, the index as the function names it, the index
    as the call passes it, the value added)."""
    found = _unpacked_into(tree, line, gradient)
    if found is None:
        return None
    call, function, returned = found
    return _indexed_add_into(function, returned, call)


def _unpacked_into(tree: ast.AST, line: int, name: str) -> tuple[ast.Call, FunctionNode, set[str]] | None:
    """(the call, the function it calls, the names that function returns in the place of `name`) for the
    statement at `line` that unpacks a call of a function of the file into a tuple holding `name`
    (`loss, grads = lm_loss(params, inputs, targets)`)."""
    call = next((
        n for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and n.lineno == line and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name)
    ), None)  # fmt: skip
    if call is None or not isinstance(call.targets[0], ast.Tuple):
        return None
    names = [e.id if isinstance(e, ast.Name) else None for e in call.targets[0].elts]
    if name not in names:
        return None
    position = names.index(name)
    function = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == call.value.func.id), None)
    if function is None:
        return None
    returned = {
        r.value.elts[position].id for r in ast.walk(function)
        if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple) and len(r.value.elts) == len(names) and isinstance(r.value.elts[position], ast.Name)
    }  # fmt: skip
    return call.value, function, returned


def returned_entry_indexed_add(tree: ast.AST, line: int, gradient: str, key: str | None) -> tuple[int, str, str, str, str] | None:
    """`returned_indexed_add` for a gradient that is an entry of a dict the function returns (`loss, grads =
    lm_loss(params, inputs, targets)`, the update reading `grads[k]` for the key `key`), where the function
    adds into that entry at an index made from one of its parameters (`g["E"][inputs[:, t]] += dx`): (its
    line, the target, the index as the function writes it, the same with the call's arguments in place of
    the function's names (only where the call passes a plain name), the value added)."""
    try:
        root = ast.parse(gradient.strip(), mode="eval").body
    except SyntaxError:
        return None
    while isinstance(root, ast.Subscript):
        root = root.value
    if not isinstance(root, ast.Name) or key is None:
        return None
    found = _unpacked_into(tree, line, root.id)
    if found is None:
        return None
    call, function, returned = found
    entries = {f"{name}[{key!r}]" for name in returned}
    passed = _arguments(function, call)
    for node in ast.walk(function):
        if not (isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Subscript)):
            continue
        if ast.unparse(node.target.value).replace('"', "'") not in entries:
            continue
        index = node.target.slice
        base = index.value if isinstance(index, ast.Subscript) else index
        if not isinstance(base, ast.Name) or not _plain_reference(passed.get(base.id, "")) or not passed[base.id].isidentifier():
            continue
        written = ast.unparse(index)
        caller = ast.unparse(index).replace(base.id, passed[base.id], 1) if passed[base.id] != base.id else written
        return node.lineno, ast.unparse(node.target.value), written, caller, ast.unparse(node.value)
    return None


def bound_indexed_add(tree: ast.AST, line: int, callers: Iterable[ast.stmt]) -> tuple[int, str, str, str, str] | None:
    """`returned_indexed_add` for a gradient located where a function binds it (`g_emb = np.zeros_like(emb)`
    at `line`, then `g_emb[ids] += d_rows`) or at that `+=` itself, the index's name in the caller read from the call of that
    function among `callers` (the training step's statements)."""
    function = max(
        (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= line <= (n.end_lineno or n.lineno)),
        key=lambda n: n.lineno, default=None,
    )  # fmt: skip
    if function is None:
        return None
    bound = next((
        n.targets[0].id for n in ast.walk(function) if isinstance(n, ast.Assign) and n.lineno == line
        and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
    ), None)  # fmt: skip
    bound = bound or next((  # located at the `+=` itself (`g_emb[ids] += ...`, `grads["E"][ids] += ...`)
        ast.unparse(n.target.value) for n in ast.walk(function) if isinstance(n, ast.AugAssign) and n.lineno == line
        and isinstance(n.target, ast.Subscript)
    ), None)  # fmt: skip
    if bound is None:
        return None
    call = next((n for s in callers for n in ast.walk(s) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == function.name), None)
    return _indexed_add_into(function, {bound}, call) if call is not None else None


def _plain_reference(text: str) -> bool:
    """`ids`, `X[bi]`, `batch[:, 1:]`, `self.ids`: an argument that only reads names, attributes and entries
    (no call), which can be read again where the step ran."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return False
    allowed = (ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.Constant, ast.expr_context, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)
    return all(isinstance(n, allowed) for n in ast.walk(node))


def _indexed_add_into(function: FunctionNode, targets: set[str], call: ast.Call) -> tuple[int, str, str, str, str] | None:
    """The first indexed `+=` in `function` into one of `targets` at an index the function takes as a
    parameter, with what `call` passes for it (`_arguments`: a name, or an entry of one, `X[bi]`): (its
    line, the target, the index as the function names it, as the call passes it, the value added)."""
    passed = _arguments(function, call)
    for node in ast.walk(function):
        if (
            isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Subscript)
            and ast.unparse(node.target.value) in targets and isinstance(node.target.slice, ast.Name)
            and _plain_reference(passed.get(node.target.slice.id, ""))
        ):  # fmt: skip
            index = node.target.slice.id
            return node.lineno, ast.unparse(node.target.value), index, passed[index], ast.unparse(node.value)
    return None


def term_overwritten_in_loop(tree: ast.Module, line: int) -> tuple[str, int, int] | None:
    """(name, earlier binding's line, loop's line) when the statement at `line` binds a name anew inside a `for`
    loop from a term of the loop's own element (`grad_v = (1.0 - s_neg[k]) * u_neg[k]` over `k`), never reading
    the name, while the function bound that name before the loop and reads it after: each pass throws away what
    the name held (the term before the loop, the earlier passes' terms), where a sum wants `+=`."""
    from backprop_doctor.static.steps import _scope_of

    scope = _scope_of(tree, line)
    if scope is None:
        return None
    loops = [n for n in ast.walk(scope) if isinstance(n, ast.For) and n.lineno < line <= (n.end_lineno or n.lineno)]
    if not loops:
        return None
    loop = max(loops, key=lambda n: n.lineno)
    stmt = next((n for b in _child_blocks(loop) for n in b if n.lineno == line), None)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return None
    name = stmt.targets[0].id
    read = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
    element = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    if name in read or not read & element:
        return None
    before = [
        n.lineno for n in ast.walk(scope)
        if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno < loop.lineno
        and any(isinstance(t, ast.Name) and t.id == name for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
    ]  # fmt: skip
    end = loop.end_lineno or loop.lineno
    after = any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and n.lineno > end for n in ast.walk(scope))
    if not before or not after:
        return None
    return name, max(before), loop.lineno


def crossed_entry(tree: ast.Module, line: int, key: str) -> tuple[int, str, str, str, str] | None:
    """(line, stored key, name stored, name meant, the entry fixed) when the function holding `line` stores, under
    the key of the parameter `key` (`'b1'`, or `'db1'`), the name the statement at `line` binds (`db2`), which it
    stores under another parameter's key too (`'b2': db2`), while it binds a name for this parameter that nothing
    reads (`db1`): one parameter's gradient copied into another's entry (`{'W1': dW1, 'b1': db2, ...}`)."""
    from backprop_doctor.static.steps import _scope_of

    scope = _scope_of(tree, line)
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    bound_here = {n.id for s in ast.walk(scope) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno == line
                  for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) for n in ast.walk(t) if isinstance(n, ast.Name)}  # fmt: skip
    stores: list[tuple[str, str, int, str]] = []  # (key, name, line, the store written with "{}" for the name)
    for node in ast.walk(scope):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, ast.Name):
                    stores.append((k.value, v.id, v.lineno, f"{k.value!r}: {{}}"))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Name):
            target = node.targets[0]
            if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
                stores.append((target.slice.value, node.value.id, node.lineno, f"{ast.unparse(target)} = {{}}"))
    spelled = {key, f"d{key}", f"d_{key}", f"grad_{key}", f"g{key}", f"g_{key}"}
    loaded = {n.id for n in ast.walk(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for stored_key, name, at, written in stores:
        if stored_key not in spelled or name not in bound_here:
            continue
        if not any(k != stored_key and n == name for k, n, _, _ in stores):
            continue  # stored under this key alone: a wrong value, not another parameter's
        meant = [
            n.id for s in ast.walk(scope) if isinstance(s, ast.Assign)
            for t in s.targets for n in ast.walk(t) if isinstance(n, ast.Name) and n.id not in loaded and n.id.lower().endswith(key.lower()) and n.id != name
        ]  # fmt: skip
        if len(set(meant)) != 1:
            continue
        return at, stored_key, name, meant[0], written.format(meant[0])
    return None
