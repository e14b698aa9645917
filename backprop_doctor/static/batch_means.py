"""Where a program takes the batch mean of its parameters' gradients, and where it hands a loss
function's gradient on.

A loss function may return each sample's own gradient (`p - onehot`, N × the gradient of the mean
loss it returns) on purpose, the layers it feeds dividing their parameters' gradients by N
(`self.dW = self.x.T @ g / len(g)`, `self.db = g.mean(axis=0)`). `mean_lines` finds those
statements, for the message that names the convention; `hands_on` reads the loop's statement that
calls the loss function.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.tree import walk

_FORWARD = frozenset({"forward", "__call__", "__init__", "predict", "forward_pass", "feedforward"})


def _divides(node: ast.AST) -> bool:
    """A division or a mean in `node` (`x.T @ g / len(g)`, `g.mean(axis=0)`, `np.mean(g, 0)`, `(1 / m) * ...`)."""
    for n in ast.walk(node):
        if isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, ast.Div):
            return True
        if isinstance(n, ast.Call) and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) in ("mean", "average"):
            return True
    return False


def mean_lines(tree: ast.Module, classes: frozenset[str] = frozenset(), lines: frozenset[int] = frozenset()) -> list[int]:
    """The lines of the statements that store a gradient as a batch mean: in the methods of `classes`
    other than their forward, an assignment to an attribute of `self` that divides or takes a mean;
    and, of `lines` (where the step's gradients are computed), those whose statement divides."""
    found: set[int] = set()
    for node in walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in classes:
            for method in node.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name in _FORWARD:
                    continue
                for stmt in ast.walk(method):
                    if isinstance(stmt, (ast.Assign, ast.AugAssign)) and _to_self(stmt) and _divides(stmt):
                        found.add(stmt.lineno)
        elif isinstance(node, (ast.Assign, ast.AugAssign)) and node.lineno in lines and _divides(node):
            found.add(node.lineno)
    return sorted(found)


def _to_self(stmt: ast.Assign | ast.AugAssign) -> bool:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return any(isinstance(t, (ast.Attribute, ast.Subscript)) and _self_rooted(t) for target in targets for t in ast.walk(target))


def _self_rooted(node: ast.AST) -> bool:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "self"


def bound_by_a_call(stmt: ast.stmt) -> bool:
    """Whether `stmt` binds what a call returns (`loss, dscores = cross_entropy(scores, yb)`, `d = crit.backward()`)."""
    return isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)


def hands_on(stmt: ast.stmt, function: str, later: list[ast.stmt], tree: ast.Module | None = None) -> tuple[str, str, int] | None:
    """(loss name, gradient name, the line binding the gradient) when `stmt` binds a pair from a call of
    `function` (`loss, dscores = cross_entropy(scores, yb)`), or the loss alone from an instance of the class
    `function` (`loss = criterion.forward(out, y)`, `criterion = CrossEntropyLoss()` in `tree`) whose other
    method one of `later` binds the gradient from (`dLdA = criterion.backward()`), and a statement after it
    reads that gradient (`model.backward(dscores)`)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
        return None
    called = stmt.value.func
    name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", None)
    target = stmt.targets[0]
    if name == function and isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2:
        loss, gradient = target.elts
        if isinstance(loss, ast.Name) and isinstance(gradient, ast.Name) and _read(gradient.id, later):
            return loss.id, gradient.id, stmt.lineno
        return None
    owner = called.value if isinstance(called, ast.Attribute) and name == "forward" else called
    if not (isinstance(target, ast.Name) and isinstance(owner, ast.Name) and tree is not None and _instance_of(tree, owner.id, function)):
        return None
    for k, st in enumerate(later):
        value = st.value if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) else None
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr != "forward"):
            continue
        if isinstance(value.func.value, ast.Name) and value.func.value.id == owner.id and _read(st.targets[0].id, later[k + 1 :]):
            return target.id, st.targets[0].id, st.lineno
    return None


def _read(name: str, statements: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for st in statements for n in ast.walk(st))


def _instance_of(tree: ast.Module, name: str, cls: str) -> bool:
    """Whether the module binds `name` to an instance of `cls` made there (`criterion = CrossEntropyLoss()`)."""
    return any(
        isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == cls
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        for node in walk(tree)
    )  # fmt: skip


def stored_in_class(tree: ast.Module, cls: str, attribute: str) -> int | None:
    """The line of the one statement of class `cls`, outside its forward and constructor, that stores
    `self.<attribute>` (`self.db = g.sum(axis=0)` in `Linear.backward`): where the gradient an update reads
    as `layer.db` is formed. None when no such statement, or more than one, is found."""
    found: list[int] = []
    for node in walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name == cls):
            continue
        for method in node.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name in _FORWARD:
                continue
            for stmt in ast.walk(method):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) else []
                if any(isinstance(t, ast.Attribute) and t.attr == attribute and isinstance(t.value, ast.Name) and t.value.id == "self" for t in targets):
                    found.append(stmt.lineno)
    return found[0] if len(found) == 1 else None
