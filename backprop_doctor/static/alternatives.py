"""The statements of a per-sample loop in a backward pass, and their shape-level alternatives.

A backward that builds its gradient one sample at a time computes intermediate arrays inside
the loop and then stores a row of the output:

    for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
        single_output = single_output.reshape(1, -1)          # a row where a column is meant
        jacobian_matrix = np.diagflat(single_output) - np.dot(single_output, single_output.T)
        self.dinputs[index] = np.dot(jacobian_matrix, single_dvalues)

The gradient check finds the stored row wrong; the statement to change may be an earlier one.
`loop_statements` gives the statements of the loop that leads to the store, and `alternatives`
each statement with one shape-level change (a row reshape made a column, a product's operands
swapped or a transpose added or dropped, `np.diag` made `np.diagflat`, a vector product made an
outer product, a sum over the other axis, a max made a min, a sign or a division dropped), ranked:
the changes a slip most often needs first; a column made a row, and a whole value negated, last (a
column vector is how the formulas are written; a negated input to a comparison fixes a min written
for a max as well as the min does). What runs them is
`rewrites`; nothing here runs user code.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

NUMPY = ("np", "numpy", "jnp")
LIKELY, UNLIKELY = 1, 2  # ranks of a change: a slip's usual fix, and one that is right only as often as it is wrong


@dataclass(frozen=True)
class Alternative:
    """`statement` with one change: its rank (lower first), the changed statement's node and text."""

    rank: int
    node: ast.stmt
    text: str


def loop_statements(function: FunctionNode, line: int) -> list[ast.stmt] | None:
    """The simple statements of `function` (lines relative to its tree) that run in the outermost
    `for` loop around the statement at `line`, up to and including that statement, in source order;
    None when that statement is not in a `for` loop of the function or does not store into part of
    an array (`out[i] = ...`, `dx[i, :] += ...`), or when the loop computes nothing before it."""
    loops = [n for n in walk(function) if isinstance(n, ast.For) and n.lineno < line <= (n.end_lineno or n.lineno)]
    if not loops:
        return None
    outer = min(loops, key=lambda n: n.lineno)
    body = [s for s in _simple(outer.body) if s.lineno <= line]
    store = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    if store is None or not _stores_part(store):
        return None
    body = [s for s in body if s.lineno <= store.lineno]
    carried = [s for s, _ in carried_statements(function, line)]
    return [*carried, *body] if len(body) > 1 or carried else None


def carried_statements(function: FunctionNode, line: int) -> list[tuple[ast.stmt, int]]:
    """(statement, the line that reads what it binds) for each assignment of the outermost `for` loop around
    the statement at `line` that comes after that statement and binds a name the loop reads at or before it
    with nothing of the loop binding it first: the value it hands on to the loop's next pass (backpropagation
    through time's `dh = da @ Wh.T` at the end of a step, read as `da = dh * (1 - h ** 2)` by the step before).
    A wrong one makes the store wrong from the second pass on, though it comes after it."""
    loops = [n for n in walk(function) if isinstance(n, ast.For) and n.lineno < line <= (n.end_lineno or n.lineno)]
    if not loops:
        return []
    outer = min(loops, key=lambda n: n.lineno)
    body = list(_simple(outer.body))
    store = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    if store is None:
        return []
    end = store.end_lineno or store.lineno
    before = [s for s in body if s.lineno <= store.lineno]
    found = []
    for statement in body:
        if statement.lineno <= end or not isinstance(statement, ast.Assign):
            continue
        names = {n.id for t in statement.targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        reader = next((r for name in sorted(names) if (r := _read_first(before, name)) is not None), None)
        if reader is not None:
            found.append((statement, reader))
    return found


def feeding(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of `statements` (the last one stores the gradient) whose value reaches that store, through
    the names they bind and the statements after them, or through a later pass of their loop, read: not
    `grads["Wh"] += x.T @ dah` beside a store of `dxs[:, t, :]` that reads neither `grads` nor anything bound from
    it. In order; the store stays last."""
    if not statements:
        return statements

    def bound(statement: ast.stmt) -> set[str]:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]  # type: ignore[attr-defined]
        found = set()
        pending = list(targets)
        while pending:
            target = pending.pop()
            if isinstance(target, (ast.Tuple, ast.List)):
                pending += target.elts
                continue
            if isinstance(target, ast.Starred):
                pending.append(target.value)
                continue
            while isinstance(target, ast.Subscript):  # `dx[i]`, `grads["W"][:, k]`: the array written into
                target = target.value
            if isinstance(target, (ast.Name, ast.Attribute)):
                found.add(ast.unparse(target))
        return found

    def read(statement: ast.stmt) -> set[str]:
        value = getattr(statement, "value", None)
        nodes = list(ast.walk(value)) if value is not None else []
        found = {n.id for n in nodes if isinstance(n, ast.Name)} | {ast.unparse(n) for n in nodes if isinstance(n, ast.Attribute)}
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]  # type: ignore[attr-defined]
        for target in targets:  # an index read where it stores (`dx[i]`), and what `+=` adds to
            for node in ast.walk(target):
                if isinstance(node, ast.Subscript):
                    found |= {n.id for n in ast.walk(node.slice) if isinstance(n, ast.Name)}
        if isinstance(statement, ast.AugAssign):
            found |= bound(statement)
        return found

    store = statements[-1]
    wanted = read(store)
    kept = {id(store)}
    changed = True
    while changed:
        changed = False
        for statement in statements:
            if id(statement) not in kept and bound(statement) & wanted:
                kept.add(id(statement))
                wanted |= read(statement)
                changed = True
    return [s for s in statements if id(s) in kept]


def _read_first(statements: list[ast.stmt], name: str) -> int | None:
    """The line of the first of `statements` that reads `name` before any of them binds it; None when one binds it
    first, or none reads it."""
    for statement in statements:
        value = getattr(statement, "value", None)
        reads = value is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value))
        if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name) and statement.target.id == name:
            reads = True
        if reads:
            return statement.lineno
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]  # type: ignore[attr-defined]
        if any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for t in targets for n in ast.walk(t)):
            return None
    return None


def written_before(function: FunctionNode, line: int) -> list[ast.stmt] | None:
    """The statements of the block holding the statement at `line` that write the array it writes
    (`self.dinputs = dvalues.copy()`, `self.dinputs[range(samples), y_true] -= 1` before
    `self.dinputs = self.dinputs / samples`), then that statement; None when none writes it before."""
    for block in _blocks(function):
        store = next((s for s in block if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if store is None or not isinstance(store, (ast.Assign, ast.AugAssign)):
            continue
        root = _written(store)
        if root is None:
            return None
        earlier = [s for s in block if s.lineno < store.lineno and isinstance(s, (ast.Assign, ast.AugAssign)) and _written(s) == root]
        return [*earlier, store] if earlier else None
    return None


def _blocks(function: FunctionNode) -> Iterator[list[ast.stmt]]:
    for node in walk(function):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def _written(statement: ast.Assign | ast.AugAssign) -> str | None:
    """The one array a statement writes, without its index (`self.dinputs` of `self.dinputs[i] -= 1`)."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    if len(targets) != 1:
        return None
    target = targets[0]
    while isinstance(target, ast.Subscript):
        target = target.value
    return ast.unparse(target) if isinstance(target, (ast.Name, ast.Attribute)) else None


def _simple(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Assignments in `statements` and in the blocks they hold (loops, branches), in source order."""
    for s in statements:
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            yield s
        elif isinstance(s, (ast.For, ast.While, ast.If, ast.With, ast.Try)):
            for block in ("body", "orelse", "finalbody"):
                yield from _simple(getattr(s, block, []) or [])
            for handler in getattr(s, "handlers", []) or []:
                yield from _simple(handler.body)


def _stores_part(statement: ast.stmt) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]  # type: ignore[attr-defined]
    return any(isinstance(t, ast.Subscript) for t in targets)


def alternatives(statement: ast.stmt, siblings: dict[str, list[ast.expr]] | None = None, factors: list[ast.expr] | None = None) -> list[Alternative]:
    """`statement` with each single change of `_CHANGES` applied at one place of its value, ranked;
    an in-place addition made a subtraction and the other way. `siblings` (`operand_siblings` of the
    function): the other weights a matrix product's operand may have been meant as (`p["Uz"]` for `p["Ur"]`);
    `factors` (`gradient_factors`): the forward values the function multiplies its gradients by, one of which a
    gradient added up alone may have left out (`dh_prev += drh` for `drh * r`)."""
    value = getattr(statement, "value", None)
    if value is None:
        return []
    out: list[Alternative] = []
    seen = {ast.unparse(statement)}
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, (ast.Add, ast.Sub)):
        flipped = copy.deepcopy(statement)
        flipped.op = ast.Sub() if isinstance(statement.op, ast.Add) else ast.Add()
        out.append(Alternative(LIKELY, flipped, ast.unparse(flipped)))
        seen.add(out[-1].text)
    sites = [n for n in ast.walk(value) if isinstance(n, ast.expr)]
    negated = copy.deepcopy(statement)
    if not (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)):
        negated.value = _negated(copy.deepcopy(value))  # type: ignore[attr-defined]
        out.append(Alternative(UNLIKELY, ast.fix_missing_locations(ast.copy_location(negated, statement)), ast.unparse(negated)))
        seen.add(out[-1].text)
    # One copy for every site and change: no change writes into the node it is handed (each builds its
    # replacement from copies, or from the node's parts, unchanged), and `_replaced` copies it again
    # before it puts a replacement in (a copy per site and change was a tenth of a failing check's search).
    changed = copy.deepcopy(statement)
    copied = [n for n in ast.walk(changed.value) if isinstance(n, ast.expr)]  # type: ignore[attr-defined]
    changes = (*_CHANGES, lambda node: _swapped_operands(node, siblings or {}))
    if factors:
        for rank, replacement in _left_out_factors(statement, factors):
            node = copy.deepcopy(statement)
            node.value = replacement  # type: ignore[attr-defined]
            text = ast.unparse(node)
            if text not in seen:
                seen.add(text)
                out.append(Alternative(rank, ast.fix_missing_locations(ast.copy_location(node, statement)), text))
    for index in range(len(sites)):
        for change in changes:
            site = copied[index]
            for rank, replacement in change(site):
                node = _replaced(changed, site, replacement)
                text = ast.unparse(node)
                if text not in seen:
                    seen.add(text)
                    out.append(Alternative(rank, ast.fix_missing_locations(ast.copy_location(node, statement)), text))
    return sorted(out, key=lambda a: a.rank)


def _replaced(statement: ast.stmt, site: ast.expr, replacement: ast.expr) -> ast.stmt:
    """A copy of `statement` (which holds `site`) with `site` replaced by `replacement`."""
    holder = copy.deepcopy(statement)
    old = [n for n in ast.walk(statement) if isinstance(n, ast.expr)]
    new = [n for n in ast.walk(holder) if isinstance(n, ast.expr)]
    position = next(i for i, n in enumerate(old) if n is site)
    target = new[position]
    if target is getattr(holder, "value", None):
        holder.value = replacement  # type: ignore[attr-defined]
        return holder
    for parent in ast.walk(holder):
        for field, child in ast.iter_fields(parent):
            if child is target:
                setattr(parent, field, replacement)
                return holder
            if isinstance(child, list) and any(c is target for c in child):
                setattr(parent, field, [replacement if c is target else c for c in child])
                return holder
    return holder


def _numpy_call(node: ast.expr, *names: str) -> str | None:
    """The name of a NumPy function `node` calls (`np.dot`, `numpy.dot`, a bare `dot`), when one of `names`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute):
        name = func.attr if isinstance(func.value, ast.Name) and func.value.id in NUMPY else None
    else:
        name = func.id if isinstance(func, ast.Name) else None
    return name if name in names else None


def _number(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int):
        return -node.operand.value
    return None


def _reshaped(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """`v.reshape(1, -1)` -> `v.reshape(-1, 1)` (likely) and back (unlikely); also `np.reshape(v, (1, -1))`."""
    if not isinstance(node, ast.Call):
        return
    if isinstance(node.func, ast.Attribute) and node.func.attr == "reshape" and not _numpy_call(node, "reshape"):
        shape = node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], ast.Tuple) else node.args
        rebuild = (lambda s: ast.Call(node.func, [ast.Tuple(s, ast.Load())] if len(node.args) == 1 else s, node.keywords))
    elif _numpy_call(node, "reshape") and len(node.args) == 2 and isinstance(node.args[1], ast.Tuple):
        shape = node.args[1].elts
        rebuild = (lambda s: ast.Call(node.func, [node.args[0], ast.Tuple(s, ast.Load())], node.keywords))
    else:
        return
    if len(shape) != 2:
        return
    numbers = [_number(s) for s in shape]
    if 1 in numbers and -1 in numbers:
        rank = LIKELY if numbers == [1, -1] else UNLIKELY  # a row made a column is the usual fix
        yield rank, rebuild([copy.deepcopy(shape[1]), copy.deepcopy(shape[0])])


def _transposed(node: ast.expr) -> ast.expr:
    """`a.T` -> `a`, anything else -> `(it).T`."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return copy.deepcopy(node.value)
    return ast.Attribute(copy.deepcopy(node), "T", ast.Load())


def _products(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """A matrix product with its operands swapped, or either of them transposed (or not)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        left, right = node.left, node.right
        make: Callable[[ast.expr, ast.expr], ast.expr] = lambda a, b: ast.BinOp(a, ast.MatMult(), b)  # noqa: E731
    elif _numpy_call(node, "dot", "matmul") and len(node.args) == 2 and not node.keywords:  # type: ignore[attr-defined]
        left, right = node.args  # type: ignore[attr-defined]
        make = lambda a, b: ast.Call(node.func, [a, b], [])  # type: ignore[attr-defined]  # noqa: E731
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dot" and len(node.args) == 1 and not _numpy_call(node, "dot"):
        left, right = node.func.value, node.args[0]  # `a.dot(b)`
        make = lambda a, b: ast.Call(ast.Attribute(a, "dot", ast.Load()), [b], [])  # noqa: E731
    else:
        return
    yield LIKELY, make(copy.deepcopy(right), copy.deepcopy(left))
    yield LIKELY, make(_transposed(left), copy.deepcopy(right))
    yield LIKELY, make(copy.deepcopy(left), _transposed(right))
    if _numpy_call(node, "dot"):
        yield LIKELY, ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "outer", ast.Load()), [copy.deepcopy(left), copy.deepcopy(right)], [])


def _diagonals(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """`np.diag(v)` of a column or row (its diagonal, one entry) -> `np.diagflat(v)`."""
    if _numpy_call(node, "diag") and isinstance(node.func, ast.Attribute):  # type: ignore[attr-defined]
        func = copy.deepcopy(node.func)  # type: ignore[attr-defined]
        func.attr = "diagflat"
        yield LIKELY, ast.Call(func, copy.deepcopy(node.args), copy.deepcopy(node.keywords))  # type: ignore[attr-defined]


def _outer(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """`np.outer(a, b)` -> `np.dot(a, b)`: a product of a vector the code meant as a matrix."""
    if _numpy_call(node, "outer") and isinstance(node.func, ast.Attribute) and len(node.args) == 2:  # type: ignore[attr-defined]
        func = copy.deepcopy(node.func)  # type: ignore[attr-defined]
        func.attr = "dot"
        yield LIKELY, ast.Call(func, copy.deepcopy(node.args), [])  # type: ignore[attr-defined]


def _axes(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """A reduction over axis 0 made one over axis 1, and the other way."""
    if not isinstance(node, ast.Call):
        return
    for i, keyword in enumerate(node.keywords):
        if keyword.arg == "axis" and _number(keyword.value) in (0, 1):
            changed = copy.deepcopy(node)
            changed.keywords[i].value = ast.Constant(1 - _number(keyword.value))  # type: ignore[operator]
            yield LIKELY, changed


def _negated(value: ast.expr) -> ast.expr:
    """`value` negated as one writes it: `-a / b` for `a / b`, `-(a + b)` for a sum."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Mult, ast.Div, ast.MatMult)):
        value.left = _negated(value.left)
        return value
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return value.operand
    return ast.UnaryOp(ast.USub(), value)


EXTREMES = {"max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax", "maximum": "minimum", "minimum": "maximum"}


def _extremes(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """`window.min(...)` -> `window.max(...)`, `np.argmax` -> `np.argmin`, and the other way."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in EXTREMES:
        changed = copy.deepcopy(node)
        changed.func.attr = EXTREMES[node.func.attr]  # type: ignore[attr-defined]
        yield LIKELY, changed


def _signs(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """`-a` -> `a`; the whole value negated (only at the top: `a / b` -> `-(a / b)`, read as `-a / b`)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield LIKELY, copy.deepcopy(node.operand)


def _divisions(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """`a / b` -> `a` (a division too many) and `a * b` -> `a / b` (a product for a division)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        yield LIKELY, copy.deepcopy(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        yield LIKELY, ast.BinOp(copy.deepcopy(node.left), ast.Div(), copy.deepcopy(node.right))


def _complements(node: ast.expr) -> Iterator[tuple[int, ast.expr]]:
    """A gate's value written for its complement in an elementwise product: `dh * z` -> `dh * (1 - z)`
    and `dh * (1 - z)` -> `dh * z` (a GRU's update gate weighs the old state by one of them and the
    candidate by the other, and which is which is a convention easily crossed)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return
    for side in ("left", "right"):
        operand = getattr(node, side)
        if isinstance(operand, ast.BinOp) and isinstance(operand.op, ast.Sub) and _number(operand.left) == 1 and _gate_like(operand.right):
            replaced = copy.deepcopy(operand.right)
        elif _gate_like(operand):
            replaced = ast.BinOp(ast.Constant(1), ast.Sub(), copy.deepcopy(operand))
        else:
            continue
        changed = copy.deepcopy(node)
        setattr(changed, side, replaced)
        yield LIKELY, changed


_GRADIENT_NAME = re.compile(r"(?:d_?|grad_?|delta_?)[A-Za-z]\w*|\w*(?:grad|delta)\w*")


def _gate_like(node: ast.expr) -> bool:
    """A forward value a gradient is multiplied by (`z`, `zs[t]`, `self.z`, `self.zs[t]`), not a gradient (`dh`, `delta`)."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        name = node.attr
    else:
        return False
    return name not in NUMPY and not _GRADIENT_NAME.fullmatch(name)


def gradient_factors(function: FunctionNode | ast.Module) -> list[ast.expr]:
    """The forward values `function` multiplies a gradient by elementwise (`r` of `dar = dr * r * (1 - r)`, `z` of
    `dh * z`, `zs[t]`), once each, in the order written."""
    found: dict[str, ast.expr] = {}
    for node in walk(function):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for one, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(one, ast.Name) and _GRADIENT_NAME.fullmatch(one.id) and _gate_like(other):
                    found.setdefault(ast.unparse(other), other)
    return list(found.values())


def _left_out_factors(statement: ast.stmt, factors: list[ast.expr]) -> Iterator[tuple[int, ast.expr]]:
    """The value of a statement that adds up a gradient alone (`dh_prev += drh`, `dh_prev = dh + drh`) with that
    gradient multiplied by one of `factors`: a term whose gate (`* r`) is left out. Unlikely: a guess among several."""
    value = getattr(statement, "value", None)
    if value is None:
        return
    terms: list[ast.expr] = []

    def collect(node: ast.expr) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            collect(node.left)
            collect(node.right)
        else:
            terms.append(node)

    collect(value)
    for term in terms:
        if not (isinstance(term, ast.Name) and _GRADIENT_NAME.fullmatch(term.id)):
            continue
        for factor in factors:
            holder = copy.deepcopy(value)
            position = next(i for i, n in enumerate(ast.walk(value)) if n is term)
            target = next(n for i, n in enumerate(ast.walk(holder)) if i == position)
            product = ast.BinOp(copy.deepcopy(term), ast.Mult(), copy.deepcopy(factor))
            if target is holder:
                yield UNLIKELY, product
                continue
            for parent in ast.walk(holder):
                if isinstance(parent, ast.BinOp) and (parent.left is target or parent.right is target):
                    if parent.left is target:
                        parent.left = product
                    else:
                        parent.right = product
                    yield UNLIKELY, holder
                    break


def operand_siblings(function: FunctionNode | ast.Module) -> dict[str, list[ast.expr]]:
    """{operand: the operands it may have been written for} over the matrix products of `function` (or of a
    whole file, the forward's products included): weights
    read under a constant key of one holder (`p["Uz"]`, `p["Ur"]`, `p["Uh"]`) or named (`Wx`, `Wh`) alike,
    one letter and a length apart only in what follows it; the same weight is never its own sibling."""
    operands: dict[str, ast.expr] = {}
    for node in walk(function):
        pair = _product_operands(node)
        for operand in pair:
            bare = operand.value if isinstance(operand, ast.Attribute) and operand.attr == "T" else operand
            if _weight_key(bare) is not None:
                operands.setdefault(ast.unparse(bare), bare)
    found: dict[str, list[ast.expr]] = {}
    for text, operand in operands.items():
        holder, key = _weight_key(operand)  # type: ignore[misc]
        found[text] = [
            other for other_text, other in operands.items()
            if other_text != text and (k := _weight_key(other)) is not None and k[0] == holder and k[1][0] == key[0] and len(k[1]) == len(key)
        ]  # fmt: skip
    return {text: others for text, others in found.items() if others}


def _weight_key(node: ast.expr) -> tuple[str, str] | None:
    """(holder, key) of `p["Uz"]` / `self.params["Uz"]`, ("", name) of a plain name `Wx`; None for any other."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) and node.slice.value:
        return ast.unparse(node.value), node.slice.value
    if isinstance(node, ast.Name) and len(node.id) >= 2 and node.id[0].isupper():
        return "", node.id
    return None


def _product_operands(node: ast.AST) -> tuple[ast.expr, ...]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return node.left, node.right
    if _numpy_call(node, "dot", "matmul") and len(node.args) == 2:  # type: ignore[attr-defined]
        return tuple(node.args)  # type: ignore[attr-defined]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dot" and len(node.args) == 1 and not _numpy_call(node, "dot"):
        return node.func.value, node.args[0]
    return ()


def _swapped_operands(node: ast.expr, siblings: dict[str, list[ast.expr]]) -> Iterator[tuple[int, ast.expr]]:
    """A matrix product's weight (`daz @ p["Ur"].T`) made another of its siblings (`p["Uz"]`): the gradient
    carried back through the wrong matrix."""
    if not siblings or not _product_operands(node):
        return
    for position, operand in enumerate(_product_operands(node)):
        transposed = isinstance(operand, ast.Attribute) and operand.attr == "T"
        bare = operand.value if transposed else operand
        for other in siblings.get(ast.unparse(bare), []):
            replacement: ast.expr = ast.Attribute(copy.deepcopy(other), "T", ast.Load()) if transposed else copy.deepcopy(other)
            changed = copy.deepcopy(node)
            if isinstance(changed, ast.BinOp):
                if position == 0:
                    changed.left = replacement
                else:
                    changed.right = replacement
            elif isinstance(changed, ast.Call) and _numpy_call(changed, "dot", "matmul"):
                changed.args[position] = replacement
            elif isinstance(changed, ast.Call) and isinstance(changed.func, ast.Attribute):
                if position == 0:
                    changed.func.value = replacement
                else:
                    changed.args[0] = replacement
            yield LIKELY, changed


_CHANGES = (_reshaped, _products, _diagonals, _outer, _axes, _extremes, _signs, _divisions, _complements)


COPIES = ("ravel", "flatten", "reshape", "squeeze", "copy", "T")  # what leaves a value's numbers as they are


def copied_from(statements: list[ast.stmt]) -> ast.stmt | None:
    """The statement of `statements` (`loop_statements`: the last one stores) that computes what the
    store only copies into its row (`dx[i, :] = g.ravel()` after `g = J @ dout[i].reshape(-1, 1)`): a
    store whose row is indexed by the loop's own variables cannot be wrong in its value, which is
    then that statement's; None when the store computes something itself."""
    store = statements[-1]
    if not isinstance(store, ast.Assign):
        return None
    rows = [n for t in store.targets if isinstance(t, ast.Subscript) for n in ast.walk(t.slice)]
    if not any(isinstance(n, ast.Name) for n in rows):
        return None  # `dx[0] = g`: the row it stores into may be what is wrong
    value = store.value
    while True:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in COPIES:
            if any(isinstance(n, ast.Name) for arg in value.args for n in ast.walk(arg) if not isinstance(arg, (ast.Constant, ast.UnaryOp, ast.Tuple))):
                return None  # a reshape to sizes it computes: not only a copy
            value = value.func.value
        elif isinstance(value, ast.Attribute) and value.attr == "T":
            value = value.value
        else:
            break
    if not isinstance(value, ast.Name):
        return None
    earlier = [s for s in statements[:-1] if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in s.targets)]
    return earlier[-1] if earlier else None


def rescaled_from(statements: list[ast.stmt]) -> ast.stmt | None:
    """The write into part of the array just before the store of `statements` (`written_before`:
    `self.dinputs[:, y_true] -= 1`) when the store only scales the array by one number (`self.dinputs =
    self.dinputs / samples`, `dx /= N`): a gradient wrong otherwise than by one factor was wrong before
    it; None when the store does more, or the write before it is a whole one."""
    store, earlier = statements[-1], statements[:-1]
    root = _written(store)  # type: ignore[arg-type]
    if root is None or not earlier:
        return None
    if isinstance(store, ast.AugAssign):
        scaled = ast.unparse(store.target) == root and isinstance(store.op, (ast.Mult, ast.Div)) and _one_number(store.value)
    else:
        value = store.value  # type: ignore[attr-defined]
        scaled = (
            ast.unparse(store.targets[0]) == root  # type: ignore[attr-defined]
            and isinstance(value, ast.BinOp)
            and isinstance(value.op, (ast.Mult, ast.Div))
            and any(ast.unparse(a) == root and _one_number(b) for a, b in ((value.left, value.right), (value.right, value.left)))
            and not (isinstance(value.op, ast.Div) and ast.unparse(value.right) == root)
        )
    before = earlier[-1]
    partial = isinstance(before, ast.AugAssign) or any(isinstance(t, ast.Subscript) for t in getattr(before, "targets", []))
    return before if scaled and partial else None  # after a whole copy (`dx = y.copy()`) a statement may be missing


def _one_number(node: ast.expr) -> bool:
    """A constant, a name, or a count (`len(x)`, `x.shape[0]`): read as one number."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("len", "float", "int"):
        return True
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
