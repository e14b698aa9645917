"""Whether a layer's forward takes integer ids (token or class indices), read from its source.

An embedding's input is a batch of integer ids: its forward looks rows of its weight up with them
(`self.W[x]`), or one-hot encodes them (`np.eye(V)[ids]`, `onehot[np.arange(n), ids] = 1`), often
after making them integers (`ids.astype(np.int32)`). No gradient with respect to integers exists,
so such a backward rightly returns nothing. `takes_ids(cls, method)` says whether the method's
first argument is used that way, directly or through a name it is stored under (`self.x = x`) or a
method of the class it is handed to (`self.one_hot(self.x)`), one level deep.
"""

from __future__ import annotations

import ast

_INTEGER = {"int", "int8", "int16", "int32", "int64", "int_", "intp", "uint8", "uint16", "uint32", "uint64", "long", "longlong"}
_SAME_IDS = ("reshape", "ravel", "flatten", "astype", "squeeze", "T")  # the ids still, rearranged


def takes_ids(cls: ast.ClassDef, method: str = "forward") -> bool:
    """The class's `method` uses its first argument as integer ids: as an index, or made integers."""
    methods = {m.name: m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
    node = methods.get(method)
    if node is None or len(node.args.args) < 2:
        return False
    return _used_as_ids(node, node.args.args[1].arg, methods, depth=1)


def _used_as_ids(func: ast.AST, name: str, methods: dict[str, ast.AST], depth: int) -> bool:
    aliases = _aliases(func, name)
    for node in ast.walk(func):
        if isinstance(node, ast.Subscript) and not _holds(node.value, aliases) and _index_of(node.slice, aliases):
            return True  # `self.W[x]`, `np.eye(V)[x]`, `onehot[np.arange(n), x.reshape(1, -1)] = 1`
        if isinstance(node, ast.Call) and _made_integer(node, aliases):
            return True  # `x.astype(np.int32)`, `np.asarray(x, dtype=int)`
        if depth > 0 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_self(node.func.value):
            callee = methods.get(node.func.attr)
            if callee is None or callee is func:
                continue
            params = [a.arg for a in callee.args.args[1:]]
            for param, arg in zip(params, node.args):
                if _holds(arg, aliases) and _used_as_ids(callee, param, methods, depth - 1):
                    return True
    return False


def _aliases(func: ast.AST, name: str) -> set[str]:
    """`name` and what it is stored under unchanged: `self.x = x` gives `self.x`."""
    found = {name}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in found:
            found |= {_key(t) for t in node.targets if _key(t)}
    return found


def _key(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and _is_self(node.value):
        return f"self.{node.attr}"
    return ""


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _holds(node: ast.AST, aliases: set[str]) -> bool:
    """`node` is the ids, maybe rearranged (`x.reshape(1, -1)`, `x[:, t]`, `x.T`)."""
    while True:
        if _key(node) in aliases:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SAME_IDS:
            node = node.func.value
        elif isinstance(node, ast.Attribute) and node.attr in _SAME_IDS:
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return False


def _index_of(key: ast.AST, aliases: set[str]) -> bool:
    keys = key.elts if isinstance(key, ast.Tuple) else [key]
    return any(_holds(k, aliases) for k in keys)


def _made_integer(call: ast.Call, aliases: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "astype" and _holds(func.value, aliases) and call.args:
        return _integer_type(call.args[0])
    dtype = next((k.value for k in call.keywords if k.arg == "dtype"), None)
    return dtype is not None and _integer_type(dtype) and any(_holds(a, aliases) for a in call.args[:1])


def _integer_type(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value in _INTEGER
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return name in _INTEGER
