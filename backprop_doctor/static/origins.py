"""Where a value that is only passed along was computed.

A gradient is often stored far from where it is computed: `grads["dW" + str(l)] = dW` after
`dA_prev, dW, db = linear_activation_backward(dA, cache)`, which took `dW` from
`linear_backward`'s `return dA_prev, dW, db`. A finding at the storing line sends the user to the
wrong place. `computed_at` follows a stored plain name back through the returns of the file's
own functions and methods to the statement that computes it (or renames it: `dprev_c = dc` may be
the very line that forgot a factor).
"""

from __future__ import annotations

import ast

from backprop_doctor.static.steps import _targets, copied_name
from backprop_doctor.static.tree import walk

DEPTH = 6  # calls followed at most


def computed_at(tree: ast.Module, line: int, key: str | None = None) -> int | None:
    """The line that computes what the statement at `line` only stores (a plain name put into a
    container or an attribute, `grads[...] = dW`; with `key`, the name a dict literal holds under it,
    `return {"b2": db2, ...}`), followed through the file's own functions; None when the statement
    at `line` computes its value itself or the trail is lost."""
    functions = _functions(tree)
    found = _statement_at(functions, line)
    if found is None:
        return None
    function, stmt = found
    name = _stored_name(stmt) if isinstance(stmt, ast.Assign) else None
    value = stmt.value
    # `return {"b2": db2, ...}`, or such a dict returned beside the loss (`return loss, {"W1": dW1, ...}`)
    dicts = [value] if isinstance(value, ast.Dict) else [e for e in value.elts if isinstance(e, ast.Dict)] if isinstance(value, ast.Tuple) else []
    if name is None and key is not None and len(dicts) == 1:
        name = next(
            (v.id for k, v in zip(dicts[0].keys, dicts[0].values) if isinstance(k, ast.Constant) and k.value in (key, f"d{key}") and isinstance(v, ast.Name)),
            None,
        )
    if name is None:
        return None
    end = _origin(functions, function, name, stmt.lineno, 0)
    return end if end is not None and end != line else None


def value_computed_at(tree: ast.Module, line: int, name: str) -> int | None:
    """The line of the file's own function that computes what the statement at `line` binds to
    `name` by calling it (`cost = compute_cost(A2, Y)` -> `compute_cost`'s `cost = np.sum(...)`,
    or its `return -np.sum(...) / m`); None when that statement computes the value itself."""
    functions = _functions(tree)
    found = _statement_at(functions, line)
    scope: ast.AST = found[0] if found is not None else tree
    end = _origin(functions, scope, name, line + 1, 0)  # type: ignore[arg-type]
    if end is not None and end != line:
        return end
    binding = next((s for s in walk(scope) if isinstance(s, ast.Assign) and s.lineno == line and name in _targets(s)), None)
    if binding is None or not isinstance(binding.value, ast.Call) or _position(binding, name) is not None:
        return None
    candidates = _called(functions, binding.value)
    if len(candidates) != 1:
        return None
    returns = [n for n in walk(candidates[0]) if isinstance(n, ast.Return) and n.value is not None]
    return max(returns, key=lambda n: n.lineno).lineno if returns else None


def _functions(tree: ast.Module) -> dict[str, list[ast.FunctionDef]]:
    out: dict[str, list[ast.FunctionDef]] = {}
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.setdefault(node.name, []).append(node)  # type: ignore[arg-type]
    return out


def _statement_at(functions: dict[str, list[ast.FunctionDef]], line: int) -> tuple[ast.FunctionDef, ast.Assign | ast.Return] | None:
    for defs in functions.values():
        for function in defs:
            for stmt in walk(function):
                if isinstance(stmt, (ast.Assign, ast.Return)) and stmt.lineno == line and stmt.value is not None:
                    return function, stmt
    return None


def _stored_name(stmt: ast.Assign) -> str | None:
    """The plain name a statement stores into a container or an attribute (`grads["dW"] = dW`,
    `self.dW = dW`); not a local rename (`dprev_c = dc`), which may be the very line that forgot a
    factor."""
    stores = all(isinstance(t, (ast.Subscript, ast.Attribute)) for t in stmt.targets)
    return copied_name(stmt.value) if stores else None




def _origin(functions: dict[str, list[ast.FunctionDef]], function: ast.FunctionDef, name: str, before: int, depth: int) -> int | None:
    """The line computing `name` as bound last before line `before` in `function`; a later write
    into it (`dx[:, :, t] = ...`, `dW += ...`) is where it is filled, not its `np.zeros` start."""
    binding = max(
        (s for s in walk(function) if isinstance(s, ast.Assign) and s.lineno < before and name in _targets(s)),
        key=lambda s: s.lineno,
        default=None,
    )
    if binding is None:
        return None
    filled = [s.lineno for s in walk(function) if isinstance(s, (ast.Assign, ast.AugAssign)) and binding.lineno < s.lineno < before and _writes_into(s, name)]
    if filled:
        return max(filled)
    value = binding.value
    if isinstance(value, ast.Call) and depth < DEPTH:  # a rename (`dprev_c = dc`) stops here: it may be what forgot a factor
        inner = _returned(_called(functions, value), _position(binding, name), functions)
        if inner is not None:
            target, returned_name = inner
            return _origin(functions, target, returned_name, 10**9, depth + 1) or binding.lineno
    return binding.lineno


def _called(functions: dict[str, list[ast.FunctionDef]], call: ast.Call) -> list[ast.FunctionDef]:
    """The file's own definitions of the function or method `call` calls (`f(...)`, `self.f(...)`), by name."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return functions.get(name or "", [])


def _writes_into(stmt: ast.AST, name: str) -> bool:
    """`name[...] = ...` or `name += ...` / `name[...] += ...`."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
    for target in targets:
        if isinstance(stmt, ast.AugAssign) and isinstance(target, ast.Name) and target.id == name:
            return True
        while isinstance(target, ast.Subscript):
            target = target.value
            if isinstance(target, ast.Name) and target.id == name:
                return True
    return False


def _position(stmt: ast.Assign, name: str) -> int | None:
    """Where `name` sits in a tuple target (`a, dW, db = f(...)` -> 1); None for a plain target."""
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple):
        return next((i for i, e in enumerate(target.elts) if isinstance(e, ast.Name) and e.id == name), None)
    return None


def _returned(
    candidates: list[ast.FunctionDef], index: int | None, functions: dict[str, list[ast.FunctionDef]] | None = None, depth: int = 0
) -> tuple[ast.FunctionDef, str] | None:
    """The one function of that name, and the plain name its last `return` gives at `index`; through a
    function that returns another's result whole (`return linear_backward(dZ, cache)`)."""
    if len(candidates) != 1:
        return None  # two methods of one name: which one runs is not read here
    (function,) = candidates
    returns = [n for n in walk(function) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    value = max(returns, key=lambda n: n.lineno).value
    if isinstance(value, ast.Call) and functions is not None and depth < DEPTH:
        return _returned(_called(functions, value), index, functions, depth + 1)
    if index is not None:
        value = value.elts[index] if isinstance(value, ast.Tuple) and index < len(value.elts) else None
    return (function, value.id) if isinstance(value, ast.Name) else None


def entry_computed_at(tree: ast.Module, container: str, stem: str) -> int | None:
    """The line computing what the file stores as `container[stem + ...]` (`grads['dW' + str(l)]`),
    in the last assignment that writes such an entry, followed into the function that returns it
    (`grads['dA' + ...], grads['dW' + ...], grads['db' + ...] = self.__linear_backward(...)`)."""
    functions = _functions(tree)
    writes = [
        (function, stmt, i)
        for defs in functions.values() for function in defs
        for stmt in walk(function) if isinstance(stmt, ast.Assign)
        for i, element in _elements(stmt) if _entry_of(element, container, stem)
    ]  # fmt: skip
    if not writes:
        return None
    function, stmt, index = max(writes, key=lambda w: w[1].lineno)
    value = stmt.value
    if isinstance(value, ast.Name):
        return _origin(functions, function, value.id, stmt.lineno, 0) or stmt.lineno
    if isinstance(value, ast.Call):
        inner = _returned(_called(functions, value), index)
        if inner is not None:
            return _origin(functions, inner[0], inner[1], 10**9, 1) or stmt.lineno
    return stmt.lineno


def _elements(stmt: ast.Assign) -> list[tuple[int | None, ast.expr]]:
    """(position, target) of each target of an assignment: a tuple target's elements by position."""
    out: list[tuple[int | None, ast.expr]] = []
    for target in stmt.targets:
        if isinstance(target, ast.Tuple):
            out += list(enumerate(target.elts))
        else:
            out.append((None, target))
    return out


def _entry_of(target: ast.expr, container: str, stem: str) -> bool:
    """`container['stem' + ...]` or `container['stem']`."""
    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == container):
        return False
    key = target.slice
    if isinstance(key, ast.Constant):
        return key.value == stem
    return isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add) and isinstance(key.left, ast.Constant) and key.left.value == stem


def passed_back_at(tree: ast.Module, backward_line: int) -> tuple[int, str] | None:
    """Where the function of the file defined or running at `backward_line` (a network's backward
    written as functions, `L_model_backward`) gets the gradient it hands from one layer to the next:
    `dA_prev, grads["dW" + str(l)], ... = backward_step(dZ, cache)` keeps a plain name beside the
    stored gradients, and the callee's return at that position is computed at the line returned,
    with that name (`dA_prev = W.T.dot(dZ)`). None when no call of the file's own functions does."""
    functions = _functions(tree)
    owner = next((f for defs in functions.values() for f in defs if f.lineno <= backward_line <= (f.end_lineno or f.lineno)), None)
    if owner is None:
        return None
    for stmt in walk(owner):
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Call)):
            continue
        elements = stmt.targets[0].elts
        stored = [e for e in elements if isinstance(e, ast.Subscript)]
        plain = [i for i, e in enumerate(elements) if isinstance(e, ast.Name)]
        if not stored or len(plain) != 1:
            continue
        inner = _returned(_called(functions, stmt.value), plain[0])
        if inner is None:
            continue
        target, name = inner
        line = _origin(functions, target, name, 10**9, 0)
        if line is not None:
            return line, name
    return None



def summed_from(prefix: tuple[ast.stmt, ...], expression: str) -> str | None:
    """The gradient a running sum is made of, where an update reads that sum (`sums[k] / ACCUM`, `accW`) and
    the pass adds one gradient into it, once (`sums[k] += grads[k]`, `for name in P: sums[name] +=
    grads[name]`, `accW += dW`): `grads[k]`, `dW`, in the expression's own key. A finding about the
    gradient then points where the micro-batch's gradient is computed, not at the sum. None when the
    expression reads no such sum, or the pass adds to it more than once or something else than a name or
    an entry under the same key."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, (ast.Name, ast.Attribute, ast.Constant)):
        node = node.left  # `acc[k] / ACCUM`: the sum divided by its count of passes
    keyed = isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name)
    if not (keyed or isinstance(node, (ast.Name, ast.Attribute))):
        return None
    sum_name = ast.unparse(node.value if keyed else node)
    added = []
    for stmt in prefix:
        for found in walk(stmt):
            if not (isinstance(found, ast.AugAssign) and isinstance(found.op, ast.Add)):
                continue
            target = found.target
            if keyed and isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Name) and ast.unparse(target.value) == sum_name:
                added.append((found, target.slice.id))
            elif not keyed and isinstance(target, (ast.Name, ast.Attribute)) and ast.unparse(target) == sum_name:
                added.append((found, None))
    if len(added) != 1:
        return None
    stmt, key = added[0]
    value = stmt.value
    if key is None:
        return ast.unparse(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
    if not (isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Name) and value.slice.id == key and isinstance(value.value, (ast.Name, ast.Attribute))):
        return None
    return f"{ast.unparse(value.value)}[{node.slice.id}]"
