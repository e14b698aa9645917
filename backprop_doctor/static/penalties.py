"""A weight penalty a network's loss adds and its gradient leaves out.

The book's `MultiLayerNet.loss` adds `0.5 * self.weight_decay_lambda * np.sum(W ** 2)` for every
weight; its `gradient` must add `self.weight_decay_lambda * W` to each weight's gradient. When it does
not, every layer's own gradient is right and only the network's is wrong, so "fix the layer whose
gradient is wrong" points nowhere. `left_out_penalty` finds the setting the loss's penalty reads and
the gradient method never does.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.tree import walk

_GRADIENT_METHODS = ("gradient", "backward", "backprop", "grads", "compute_gradients")


@dataclass(frozen=True)
class LeftOutPenalty:
    setting: str  # "self.weight_decay_lambda"
    line: int  # the loss's statement that adds the penalty
    method: str  # the method that computes the gradients ("gradient")
    weights_line: int | None  # where it stores a weight's gradient (`grads['W' + str(idx)] = ...`), where the term belongs


def left_out_penalty(tree: ast.Module | None, class_name: str) -> LeftOutPenalty | None:
    """The attribute a squared-weight penalty in the class's `loss` is scaled by, when the class's
    gradient method never reads it."""
    if tree is None:
        return None
    loss = find_function(tree, f"{class_name}.loss")
    gradient = next((g for m in _GRADIENT_METHODS if (g := find_function(tree, f"{class_name}.{m}")) is not None), None)
    if loss is None or gradient is None or not loss.args.args or not gradient.args.args:
        return None
    me = loss.args.args[0].arg
    read_by_gradient = {ast.unparse(n) for n in walk(gradient) if isinstance(n, ast.Attribute)}
    for stmt in (n for n in walk(loss) if isinstance(n, ast.stmt) and not isinstance(n, ast.FunctionDef)):
        if not _squares(stmt):
            continue
        for node in walk(stmt):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == me and _is_setting(node.attr):
                setting = f"{gradient.args.args[0].arg}.{node.attr}"
                if setting not in read_by_gradient:
                    return LeftOutPenalty(f"{me}.{node.attr}", stmt.lineno, gradient.name, _weights_stored(gradient))
    return None


def penalty_only_in_loss(tree: ast.Module | None, line: int) -> tuple[str, int, str] | None:
    """(the setting, its statement's line, that statement) when the function holding `line` takes a
    penalty setting (`reg`, `lambd`) that only squared-weight statements read (`loss += 0.5 * reg *
    np.sum(W * W)`): no gradient it computes has the penalty's term."""
    if tree is None:
        return None
    function = _scope_of(tree, line)
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    statements = [n for n in walk(function) if isinstance(n, ast.stmt) and not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for argument in function.args.args:
        if not _is_setting(argument.arg):
            continue
        reading = [s for s in statements if any(isinstance(n, ast.Name) and n.id == argument.arg for n in walk(s))]
        if reading and all(_squares(s) for s in reading) and not any(isinstance(s, ast.Return) for s in reading):
            return argument.arg, reading[0].lineno, ast.unparse(reading[0])
    return None


def _squares(stmt: ast.stmt) -> bool:
    """`W ** 2`, `np.square(W)`, `W * W`: a statement that squares something."""
    for node in walk(stmt):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and ast.dump(node.left) == ast.dump(node.right):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
            return True
        if isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] == "square":
            return True
    return False


def _is_setting(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in ("lambda", "decay", "reg", "l2", "penalty", "alpha"))


@dataclass(frozen=True)
class FlippedPenalty:
    setting: str  # "self.weight_decay_lambda"
    line: int  # the loss's statement that adds the penalty
    method: str  # the method that computes the gradients ("gradient")
    at: int  # the gradient method's statement that subtracts the penalty's term
    statement: str  # that statement, as written


def penalty_subtracted(tree: ast.Module | None, class_name: str) -> FlippedPenalty | None:
    """The gradient method's statement that stores a weight's gradient with the penalty's term taken away
    (`grads['W1'] = dW - self.weight_decay_lambda * W`), when the class's `loss` adds that penalty
    (`+= 0.5 * self.weight_decay_lambda * np.sum(W ** 2)`): the term's sign is flipped."""
    if tree is None:
        return None
    loss = find_function(tree, f"{class_name}.loss")
    gradient = next((g for m in _GRADIENT_METHODS if (g := find_function(tree, f"{class_name}.{m}")) is not None), None)
    if loss is None or gradient is None or not loss.args.args or not gradient.args.args:
        return None
    me, mine = loss.args.args[0].arg, gradient.args.args[0].arg
    for stmt in (n for n in walk(loss) if isinstance(n, (ast.Assign, ast.AugAssign))):
        if not _squares(stmt) or isinstance(stmt, ast.AugAssign) and not isinstance(stmt.op, ast.Add):
            continue
        if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) for n in walk(stmt.value)) or isinstance(stmt.value, ast.UnaryOp):
            continue  # a penalty taken away in the loss, or written with a minus somewhere: its sign is not read here
        settings = {n.attr for n in walk(stmt) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me and _is_setting(n.attr)}
        for setting in sorted(settings):
            for node in walk(gradient):
                if not (isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and _weight_key(t.slice) for t in node.targets)):
                    continue
                value = node.value
                if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub) and any(
                    isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == mine and n.attr == setting for n in walk(value.right)
                ) and not any(isinstance(n, ast.Attribute) and n.attr == setting for n in walk(value.left)):
                    return FlippedPenalty(f"{me}.{setting}", stmt.lineno, gradient.name, node.lineno, ast.unparse(node))
    return None


def _weights_stored(method: ast.FunctionDef) -> int | None:
    """The line of the method's first `grads['W1'] = ...` / `grads['W' + str(i)] = ...`."""
    for node in walk(method):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and _weight_key(t.slice) for t in node.targets):
            return node.lineno
    return None


def _weight_key(key: ast.expr) -> bool:
    first = key.left if isinstance(key, ast.BinOp) else key
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value[:1] in ("W", "w")


def correct_class_term_left_out(tree: ast.Module | None, line: int) -> tuple[int, str, str] | None:
    """(the line, the statement, the term to add) when a hinge loss's loop adds `X[i]` to the gradient
    column of each class with a positive margin (`dW[:, j] += X[i]`) and never takes it from the
    correct class's (`dW[:, y[i]] -= X[i]`): every margin also depends on the correct class's score."""
    if tree is None:
        return None
    function = _scope_of(tree, line)
    updates = [n for n in walk(function) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Subscript)]
    for node in updates:
        column = _column(node.target)
        if isinstance(node.op, ast.Add) and isinstance(column, ast.Name) and any(isinstance(m, ast.Name) and m.id == "margin" or "margin" in ast.unparse(m) for m in walk(function)):
            grad = ast.unparse(node.target.value)
            others = [u for u in updates if ast.unparse(u.target.value) == grad and u is not node and isinstance(_column(u.target), ast.Subscript)]
            if not others:
                correct = next((ast.unparse(n) for n in walk(function) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in ("y", "labels", "t")), "y[i]")
                term = ast.unparse(node.target).replace(ast.unparse(column), correct, 1) if ast.unparse(column) in ast.unparse(node.target) else None
                if term is None:
                    return None
                return node.lineno, ast.unparse(node), f"{term} -= {ast.unparse(node.value)}"
    return None


def _column(target: ast.Subscript) -> ast.expr:
    """`j` of `dW[:, j]`, or of `dW[j]`."""
    index = target.slice
    return index.elts[-1] if isinstance(index, ast.Tuple) else index
