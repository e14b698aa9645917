"""Whether a class's objects are layers of a network: their backward's result handed on as the next
upstream gradient.

A backward that returns one value per parameter, shaped like them (`return gW, gc` of a model's lists
`self.weights`, `self.offsets`), is a whole model's, paired with its parameters by
`conventions._classlayer.shaped_places`, unless the file uses its class as a layer: an object made
inside a list or handed to a call (`layers = [Dense(3, 8), Tanh()]`, `net.add(Dense(8, 1))`), or
one whose backward's result goes on to another backward (`d = self.fc1.backward(d)` then
`self.act.backward(d)`), where it stands for the input gradient.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.tree import walk

_DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)


def _backward_like(name: str, method: str) -> bool:
    lowered = name.lower()
    return name == method or "backward" in lowered or "backprop" in lowered


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _unpacked(display: ast.AST, parent: ast.AST | None) -> bool:
    """`enc, dec = Encoder(), Decoder()`: a tuple of new objects unpacked into as many names."""
    if not (isinstance(parent, ast.Assign) and parent.value is display and len(parent.targets) == 1):
        return False
    target = parent.targets[0]
    return isinstance(target, (ast.Tuple, ast.List)) and isinstance(display, (ast.Tuple, ast.List)) and len(target.elts) == len(display.elts)


def used_as_layer(tree: ast.Module | None, cls_name: str, method: str) -> bool:
    """Whether `tree` uses objects of class `cls_name` as layers of a network: one made inside a list,
    tuple or dict or as a call's argument (`[Dense(3, 8), Tanh()]`, `layers.append(Dense(8, 1))`), or
    one bound to a name (`self.fc1 = Dense(3, 8)`, or `self` in its own class) whose `method` call's
    result is handed to another backward (`self.act.backward(self.fc1.backward(d))`), returned by a
    backward, or bound to a name that a backward of the same function is then given
    (`d = self.fc1.backward(d)` ... `self.act.backward(d)`)."""
    if tree is None:
        return False
    parents = {id(child): parent for parent in walk(tree) for child in ast.iter_child_nodes(parent)}
    names: set[str] = set()
    own: set[int] = set()
    for node in walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls_name:
            own |= {id(n) for n in ast.walk(node)}
        if not (isinstance(node, ast.Call) and _called_name(node) == cls_name):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, _DISPLAYS) and not _unpacked(parent, parents.get(id(parent))):
            return True
        if isinstance(parent, ast.Call) and node is not parent.func:
            return True  # `layers.append(Dense(8, 1))`, `Sequential(Dense(3, 8))`
        if isinstance(parent, ast.keyword):
            return True
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
            names.add(ast.unparse(parent.targets[0]))
        elif isinstance(parent, (ast.Tuple, ast.List)):
            assign = parents.get(id(parent))
            if isinstance(assign, ast.Assign):
                names.add(ast.unparse(assign.targets[0].elts[parent.elts.index(node)]))  # type: ignore[attr-defined]
    for node in walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method):
            continue
        receiver = ast.unparse(node.func.value)
        if receiver not in names and not (receiver == "self" and id(node) in own):
            continue
        if _handed_on(node, parents, method):
            return True
    return False


def _scope(node: ast.AST, parents: dict[int, ast.AST]) -> ast.AST | None:
    scope = parents.get(id(node))
    while scope is not None and not isinstance(scope, _SCOPES):
        scope = parents.get(id(scope))
    return scope


def _handed_on(call: ast.Call, parents: dict[int, ast.AST], method: str) -> bool:
    """Whether the result of `call` goes on to another backward, directly or through the name it is bound to."""
    parent = parents.get(id(call))
    scope = _scope(call, parents)
    in_backward = isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and _backward_like(scope.name, method)
    if isinstance(parent, ast.Call) and call is not parent.func and _backward_like(_called_name(parent), method):
        return True
    if isinstance(parent, ast.Return):
        return in_backward
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return False
    bound = parent.targets[0].id
    for node in walk(scope) if scope is not None else ():
        if isinstance(node, ast.Call) and node is not call and _backward_like(_called_name(node), method):
            if any(isinstance(a, ast.Name) and a.id == bound for a in [*node.args, *(k.value for k in node.keywords)]):
                return True
        if in_backward and isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id == bound:
            return True
    return False
