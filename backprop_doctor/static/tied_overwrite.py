"""A gradient entry that two objects of a pass write, the later one with `=`.

A weight shared by two objects (an encoder and a decoder tied to one `W`, both handed one dict of
parameters and one of gradients) gets a share of its gradient from each use: the object whose
backward runs second must add its share (`self.g["W"] += ...`). Written with `=`, it throws the
first share away, and the update follows one use of the weight only. `overwritten_share` reads the
step's statements for the order its method calls run in (arguments before the call that takes them:
`enc.backward(dec.backward(d))` runs the decoder's first), and the backward methods of the objects
the module made (`enc, dec = Encoder(P, G), Decoder(P, G)`) for their writes of the entry; nothing
here runs user code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from backprop_doctor.static.tree import walk


def _instances(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound to a new object of one of the module's classes: `net = Net()`,
    `enc, dec = Encoder(P, G), Decoder(P, G)`."""
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    found: dict[str, str] = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target, value = statement.targets[0], statement.value
        pairs = [(target, value)]
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) and len(target.elts) == len(value.elts):
            pairs = list(zip(target.elts, value.elts))
        for name, call in pairs:
            if isinstance(name, ast.Name) and isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in classes:
                found[name.id] = call.func.id
    return found


def _calls_in_order(node: ast.AST) -> Iterator[ast.Call]:
    """The calls under `node` in the order they run: a call's arguments (and its callee) before it."""
    if isinstance(node, ast.Call):
        yield from _calls_in_order(node.func)
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            yield from _calls_in_order(argument)
        yield node
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        return
    for child in ast.iter_child_nodes(node):
        yield from _calls_in_order(child)


def _writes(method: ast.FunctionDef, key: str) -> list[tuple[int, bool, str]]:
    """(line, adds, the entry as written) of each statement of `method` that writes the entry `key` of a container held by
    the object (`self.g["W"] = ...`, `self.grads["W"] += ...`)."""
    found = []
    for node in walk(method):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            if (
                isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and target.slice.value == key
                and isinstance(target.value, ast.Attribute) and isinstance(target.value.value, ast.Name) and target.value.value.id == "self"
            ):  # fmt: skip
                found.append((node.lineno, isinstance(node, ast.AugAssign), ast.unparse(target)))
    return found


def overwritten_share(tree: ast.Module | None, prefix: Sequence[ast.stmt], key: str) -> tuple[int, int, str] | None:
    """(line of the `=` that overwrites, line of the share written before it, the entry as the `=` writes it) for the entry `key` of
    the gradients, written by the methods of two objects the step calls one after the other, or None."""
    if tree is None or not key:
        return None
    instances = _instances(tree)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    seen: list[tuple[str, int]] = []  # (owner, line) of the writes so far in the pass
    for statement in prefix:
        for call in _calls_in_order(statement):
            func = call.func
            if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in instances):
                continue
            owner = instances[func.value.id]
            method = next((m for m in classes[owner].body if isinstance(m, ast.FunctionDef) and m.name == func.attr), None)
            if method is None:
                continue
            for line, adds, text in _writes(method, key):
                earlier = [at for who, at in seen if who != func.value.id]
                if not adds and earlier:
                    return line, earlier[-1], text
                seen.append((func.value.id, line))
    return None
