"""Whether the program hands a softmax layer's backward ŷ − y, with a cross-entropy loss, read from its calls.

A layer whose forward ends in a softmax and whose backward takes the gradient with respect to the
softmax's input (or passes its argument on unchanged) is right only when its caller hands it
`y_hat - y`, the gradient of a cross-entropy through the softmax. The caller's lines say so:

    out, cache = model.forward(x)
    loss = model.loss(out, targets)          # -log of the target's probability
    deltas = out - y_target                  # or (out - y) / n, or probs.copy(); d[range(n), y] -= 1
    model.backward(deltas, cache)

`logits_gradient_given` finds such a call: a backward call whose first argument is the output of a
forward call minus the targets, in a scope that also takes a log-likelihood of that output (`np.log`
of it, or a function or method given it whose body takes a log). The call must reach the layer:
a call of the backward function itself, or of the backward method of an object of the layer's
class, or of a class whose backward hands its first argument on, unchanged, to such an object
held in an attribute (`self.decoder.backward(deltas, ...)` with `self.decoder = Readout(...)`),
up to DEPTH classes down. A difference with any other loss (a squared error: no log) says nothing.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.layout import _own_nodes
from backprop_doctor.static.tree import walk as tree_walk

DEPTH = 3  # classes followed from the called object down to the layer
BACKWARD = ("backward", "backward_pass", "backprop", "backward_propagation", "bprop")


def logits_gradient_given(
    trees: list[ast.Module], tree: ast.Module, *, layer_class: str | None = None, backward: str | None = None
) -> ast.stmt | None:
    """The statement of `tree` that binds (or is) the `y_hat - y` handed to the layer's backward: of the
    class `layer_class`, or the backward function `backward` of a function pair. `trees` are the
    program's files, where classes and loss functions are looked up."""
    classes = {n.name: n for t in trees for n in tree_walk(t) if isinstance(n, ast.ClassDef)}
    functions: dict[str, list[ast.AST]] = {}
    for node in (n for t in trees for n in tree_walk(t) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        functions.setdefault(node.name, []).append(node)
    scopes = [n for n in tree_walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] + [tree]
    for scope in scopes:
        body = _own_nodes(scope)
        for call in (n for n in body if isinstance(n, ast.Call) and n.args):
            if not _reaches_layer(call, tree, classes, layer_class, backward):
                continue
            found = _difference(call.args[0], body, call.lineno, 3)
            if found is None:
                continue
            prediction, statement = found
            if _log_likelihood_of(prediction, body, functions):
                return statement
    return None


def _name(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _reaches_layer(call: ast.Call, tree: ast.Module, classes: dict[str, ast.ClassDef], layer_class: str | None, backward: str | None) -> bool:
    if layer_class is None:
        return backward is not None and _name(call.func) == backward
    if not (isinstance(call.func, ast.Attribute) and call.func.attr in BACKWARD):
        return False
    return _leads_to(_class_made(call.func.value, tree), layer_class, classes, DEPTH)


def _class_made(receiver: ast.AST, tree: ast.AST) -> str | None:
    """The class whose constructor call the file assigns to `receiver` (`model = Net(...)`, `self.out = Readout(...)`)."""
    key = ast.unparse(receiver)  # the store and the load differ in their context, not their text
    for node in tree_walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and any(ast.unparse(t) == key for t in node.targets):
            return _name(node.value.func)
    return None


def _leads_to(cls: str | None, layer_class: str, classes: dict[str, ast.ClassDef], depth: int) -> bool:
    """`cls` is the layer's class, or its backward hands its first argument on to an attribute that leads to it."""
    if cls is None or depth < 0:
        return False
    if cls == layer_class:
        return True
    node = classes.get(cls)
    if node is None:
        return False
    for method in (m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name in BACKWARD):
        if len(method.args.args) < 2:
            continue
        upstream = method.args.args[1].arg
        for call in (n for n in ast.walk(method) if isinstance(n, ast.Call) and n.args):
            if not (isinstance(call.func, ast.Attribute) and call.func.attr in BACKWARD):
                continue
            if not (isinstance(call.args[0], ast.Name) and call.args[0].id == upstream):
                continue
            if _leads_to(_class_made(call.func.value, node), layer_class, classes, depth - 1):
                return True
    return False


def _difference(node: ast.AST, body: list[ast.AST], line: int, depth: int) -> tuple[str, ast.AST] | None:
    """(the prediction's name, the statement) when `node` is a forward's output minus the targets: `out - y`,
    `(out - y) / n`, or a name bound to one before `line`, or to a copy of the output from which the
    statements before `line` take 1 at the targets (`d = probs.copy()`, `d[range(n), y] -= 1`)."""
    if depth < 0:
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Name):
        return (node.left.id, node) if _bound_by_call(node.left.id, body, line) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)):
        for side in (node.left, node.right):
            found = _difference(side, body, line, depth - 1)
            if found is not None:
                return found
        return None
    if not isinstance(node, ast.Name):
        return None
    assigned = [
        s for s in body if isinstance(s, ast.Assign) and s.lineno < line
        and any(isinstance(t, ast.Name) and t.id == node.id for t in s.targets)
    ]  # fmt: skip
    if not assigned:
        return None
    last = max(assigned, key=lambda s: s.lineno)
    found = _difference(last.value, body, last.lineno, depth - 1)
    if found is not None:
        return found[0], last
    copied = _copy_of(last.value)
    if copied is not None and _bound_by_call(copied, body, last.lineno) and _one_taken(node.id, body, last.lineno, line):
        return copied, last
    return None


def _copy_of(value: ast.AST) -> str | None:
    """`p.copy()`, `np.copy(p)`, `np.array(p)`: the name copied."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if value.func.attr == "copy" and not value.args and isinstance(value.func.value, ast.Name) and value.func.value.id not in ("np", "numpy"):
            return value.func.value.id
        if value.func.attr in ("copy", "array") and value.args and isinstance(value.args[0], ast.Name):
            return value.args[0].id
    return None


def _one_taken(name: str, body: list[ast.AST], after: int, before: int) -> bool:
    """`d[range(n), y] -= 1` between the two lines."""
    return any(
        isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Sub) and after < s.lineno < before
        and isinstance(s.target, ast.Subscript) and isinstance(s.target.value, ast.Name) and s.target.value.id == name
        and isinstance(s.value, ast.Constant) and s.value.value == 1
        for s in body
    )  # fmt: skip


def _bound_by_call(name: str, body: list[ast.AST], line: int) -> bool:
    """`name` is bound before `line` by a call's result: `out = net.forward(x)`, `out, cache = f(x)`."""
    for s in body:
        if not (isinstance(s, ast.Assign) and s.lineno < line and isinstance(s.value, ast.Call)):
            continue
        for target in s.targets:
            if isinstance(target, ast.Name) and target.id == name:
                return True
            if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name) and target.elts[0].id == name:
                return True
    return False


def _log_likelihood_of(prediction: str, body: list[ast.AST], functions: dict[str, list[ast.AST]]) -> bool:
    """The scope takes a log of the prediction (`np.log(out[...])`), or hands it to a function or method
    whose body takes a log (`model.loss(out, targets)`, `cross_entropy(probs, y)`; every definition of
    that name in the program, when there are several)."""
    for call in (n for n in body if isinstance(n, ast.Call)):
        if not any(isinstance(n, ast.Name) and n.id == prediction for a in [*call.args, *(k.value for k in call.keywords)] for n in ast.walk(a)):
            continue
        name = _name(call.func) or ""
        if "log" in name.lower() or "entropy" in name.lower():
            return True
        callees = functions.get(name, [])
        if callees and all(any(isinstance(n, ast.Call) and "log" in (_name(n.func) or "") for n in ast.walk(c)) for c in callees):
            return True
    return False
