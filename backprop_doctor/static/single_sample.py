"""Whether a file only ever hands a function one sample at a time, read from its call sites.

A softmax over the whole array (`np.exp(x) / np.sum(np.exp(x))`) is right on one sample and
wrong on a batch. When the program's run never reached a call of it, its calls in the source
say which: an argument made a column or a row vector (`y.reshape(-1, 1)`, `np.reshape(y, (1, -1))`,
`y.ravel()`), one sample cut out of an array (`X[:, i:i + 1]`, `X[i:i + 1]`, `X[i]`, `X[i, :]` with `i` a
loop index), a loop variable walking an array (`for x in X`, `for x, t in zip(X, T)`), or an
expression computed from one of these (`W @ x + b`, `np.dot(W, x.reshape(-1, 1))`), followed
through the assignments of the calling function. Anything else (a parameter of the caller,
a batch cut out with `X[i:i + bs]`, the function handed on as a value) says nothing. A helper
module's function is judged by its calls in the files that import it (`static.importers`).
"""

from __future__ import annotations

import ast

from backprop_doctor.static.layout import _own_nodes
from backprop_doctor.static.tree import walk

_DEPTH = 8  # assignments followed back from a call's argument
_VECTOR = ("ravel", "flatten")  # methods that make a 1-D vector of what they are given


def only_single_sample_calls(tree: ast.AST | None, name: str) -> bool:
    """Every use of `name` in the file is a call on one sample, and there is at least one."""
    return tree is not None and (_single_calls(tree, name) or 0) > 0


def only_single_sample_calls_in(trees: list[ast.AST], name: str) -> bool:
    """Every use of `name` in all these files (a module and the files that import it from there) is a
    call on one sample, and there is at least one."""
    counts = [_single_calls(tree, name) for tree in trees if tree is not None]
    return bool(counts) and None not in counts and sum(c or 0 for c in counts) > 0


def _single_calls(tree: ast.AST, name: str) -> int | None:
    """The number of calls of `name` in the file, each on one sample; None when some use is not."""
    calls = 0
    scopes = [n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] + [tree]
    for scope in scopes:
        body = _own_nodes(scope)
        called = {id(n.func) for n in body if isinstance(n, ast.Call)}
        for node in body:
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load) and id(node) not in called:
                return None  # handed on as a value (`model = [..., softmax]`): called on what, the source does not say
            if not (isinstance(node, ast.Call) and _called(node.func) == name):
                continue
            if not node.args or not _single(node.args[0], scope, body, node.lineno, _DEPTH):
                return None
            calls += 1
    return calls


def _called(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _single(node: ast.AST, scope: ast.AST, body: list[ast.AST], line: int, depth: int) -> bool:
    """Whether `node`, evaluated at `line` of `scope`, holds one sample."""
    if depth <= 0:
        return False
    if isinstance(node, ast.Name):
        return _single_name(node.id, scope, body, line, depth)
    if isinstance(node, ast.Subscript):
        return _one_cut(node, body) or _single(node.value, scope, body, line, depth - 1) and _keeps_all(node.slice)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "reshape":
            shape = node.args if not (len(node.args) == 1 and isinstance(node.args[0], ast.Tuple)) else node.args[0].elts
            if isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy") and node.args:
                shape = node.args[1].elts if len(node.args) == 2 and isinstance(node.args[1], ast.Tuple) else node.args[1:]
            return _vector_shape(shape)
        if isinstance(func, ast.Attribute) and func.attr in _VECTOR:
            return True
        parts = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy")):
            parts.append(func.value)  # `W.dot(x)`, `x.copy()`
        return any(_single(p, scope, body, line, depth - 1) for p in parts)
    if isinstance(node, ast.BinOp):
        return _single(node.left, scope, body, line, depth - 1) or _single(node.right, scope, body, line, depth - 1)
    if isinstance(node, ast.UnaryOp):
        return _single(node.operand, scope, body, line, depth - 1)
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return _single(node.value, scope, body, line, depth - 1)
    return False


def _single_name(name: str, scope: ast.AST, body: list[ast.AST], line: int, depth: int) -> bool:
    """A loop variable walking an array, else what the last assignment before `line` gave it."""
    last: ast.AST | None = None
    last_line = -1
    for node in body:
        if isinstance(node, ast.For) and node.lineno <= line <= (node.end_lineno or node.lineno) and name in _targets(node.target):
            return _walks_samples(node.target, node.iter, name, body)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            for generator in node.generators:  # `[softmax(x @ W) for x in X]`
                if name in _targets(generator.target):
                    return _walks_samples(generator.target, generator.iter, name, body)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.lineno < line and node.lineno > last_line and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                last, last_line = node.value, node.lineno
    return last is not None and _single(last, scope, body, last_line, depth - 1)


def _targets(target: ast.AST) -> list[str]:
    return [n.id for n in walk(target) if isinstance(n, ast.Name)]


def _walks_samples(target: ast.AST, iterable: ast.AST, name: str, body: list[ast.AST]) -> bool:
    """`for x in X`, `for x, t in zip(X, T)`, `for i, x in enumerate(X)`: `name` takes one sample of an
    array at a time. Not a loop over `range` (its variable is a number), nor over a list of batches
    built from slices (`batches = [X[i:i + bs] for ...]`)."""
    if isinstance(iterable, ast.Call) and _called(iterable.func) in ("zip", "enumerate"):
        sources = iterable.args
        if _called(iterable.func) == "enumerate" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            if name not in _targets(target.elts[1]):
                return False  # the counter
    elif isinstance(iterable, ast.Call):
        return False  # `range(n)`, a generator of batches
    else:
        sources = [iterable]
    return all(_plain_array(s, body) for s in sources)


def _plain_array(node: ast.AST, body: list[ast.AST]) -> bool:
    """An array walked one sample at a time: a name, attribute or `X.T`, not assigned a list of slices."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        node = node.value
    if isinstance(node, ast.Attribute):
        return True
    if not isinstance(node, ast.Name):
        return False
    for stmt in body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets):
            if isinstance(stmt.value, (ast.ListComp, ast.GeneratorExp, ast.List)) or any(isinstance(n, ast.Slice) for n in walk(stmt.value)):
                return False  # a list of batches
    return True


def _one_cut(node: ast.Subscript, body: list[ast.AST]) -> bool:
    """`X[:, i:i + 1]`, `X[i:i + 1]`, `X[i]`, `X[:, i]` or `X[i, :]` with `i` a loop index or a number."""
    keys = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if not keys or len(keys) > 2:
        return False
    *first, last = keys
    if first and _whole(last) and _index(first[0], body):
        return True  # `X[i, :]`: row `i`, whole
    if first and not _whole(first[0]):
        return False  # `X[i, j]`: an entry
    if isinstance(last, ast.Slice):
        return _width_one(last)
    return _index(last, body)


def _whole(key: ast.AST) -> bool:
    return isinstance(key, ast.Slice) and key.lower is None and key.upper is None and key.step is None


def _keeps_all(key: ast.AST) -> bool:
    """`[:, None]`, `[None, :]`, `[:]`: the same samples, with an axis added."""
    keys = key.elts if isinstance(key, ast.Tuple) else [key]
    return all(_whole(k) or (isinstance(k, ast.Constant) and k.value is None) for k in keys)


def _width_one(key: ast.Slice) -> bool:
    """`i:i + 1` (or `i:1 + i`), `0:1`."""
    lower, upper = key.lower, key.upper
    if key.step is not None or upper is None:
        return False
    if isinstance(lower, ast.Constant) and isinstance(upper, ast.Constant):
        return isinstance(lower.value, int) and upper.value == lower.value + 1
    if lower is None:
        return isinstance(upper, ast.Constant) and upper.value == 1
    if isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add):
        one = [s for s in (upper.left, upper.right) if isinstance(s, ast.Constant) and s.value == 1]
        rest = upper.right if one and one[0] is upper.left else upper.left
        return bool(one) and ast.dump(rest) == ast.dump(lower)
    return False


def _index(key: ast.AST, body: list[ast.AST]) -> bool:
    if isinstance(key, ast.Constant):
        return isinstance(key.value, int) and not isinstance(key.value, bool)
    if not isinstance(key, ast.Name):
        return False
    return any(isinstance(n, ast.For) and key.id in _targets(n.target) for n in body) or any(
        isinstance(n, ast.comprehension) and key.id in _targets(n.target) for n in body
    )


def _vector_shape(shape: list[ast.expr]) -> bool:
    """`(-1, 1)`, `(1, -1)`, `(n, 1)`, `(-1,)`: a column, a row, or a flat vector."""
    def number(node: ast.AST) -> int | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -node.operand.value if isinstance(node.operand.value, int) else None
        return None

    values = [number(s) for s in shape]
    if len(values) == 1:
        return values[0] == -1
    return len(values) == 2 and 1 in values
