"""Gradients a training step takes by finite differences, and the step `h` each is taken at.

A finite-difference function moves one entry of an array by a step, calls the loss, moves it the other
way, calls it again and divides the difference by the step (or twice it):

    def numerical_gradient(f, x):
        h = 1e-4
        ...
            tmp = x[idx]
            x[idx] = tmp + h
            fxh1 = f(x)
            x[idx] = tmp - h
            fxh2 = f(x)
            grad[idx] = (fxh1 - fxh2) / (2 * h)

`steps(tree)` names such functions and methods with their `h` (a number bound in the function, or its
parameter's default), and the functions that call them (`gradient(self, x, t)` returning
`numerical_gradient(lambda W: self.loss(x, t), self.W)`). `numerical_gradients(tree, statements)` names what
a pass's statements bind from such a call (`grad = net.gradient(x, t)`) with that `h`. A central difference
at `h = 0.1` differs from the derivative by about h² of the gradient's size: `replay.gradients` judges it at
that tolerance, not as a wrong gradient. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from backprop_doctor.static.tree import walk

DEPTH = 4  # functions calling functions that call a finite difference, followed this deep


def steps(tree: ast.AST | None) -> dict[str, float]:
    """{function or method name: its finite-difference step}, for the finite-difference functions of
    `tree` and the functions that call them (the largest step where one calls several)."""
    if tree is None:
        return {}
    functions = [n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found: dict[str, float] = {}
    for function in functions:
        step = _own_step(function)
        if step is not None:
            found[function.name] = max(step, found.get(function.name, 0.0))
    for _ in range(DEPTH):
        grown = False
        for function in functions:
            if function.name in found:
                continue
            called = [found[name] for name in _called(function) if name in found]
            if called:
                found[function.name] = max(called)
                grown = True
        if not grown:
            break
    return found


def numerical_gradients(tree: ast.AST | None, statements: Sequence[ast.stmt]) -> dict[str, float]:
    """{name: step} of what `statements` bind from a call of a finite-difference function (`steps`):
    `grad = self.gradient(x, t)`, `grads = numerical_gradient(loss_W, params)`."""
    known = steps(tree)
    if not known:
        return {}
    bound: dict[str, float] = {}
    for stmt in statements:
        for node in walk(stmt):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            called = [known[name] for name in _called(node.value) if name in known]
            if not called:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                    bound[name] = max(called)
    return bound


def called_step(expression: str, tree: ast.AST | None) -> float | None:
    """The step of a finite-difference call written in an update's own gradient (`lr * numerical_gradient(f, W)`)."""
    known = steps(tree)
    try:
        node = ast.parse(expression, mode="eval")
    except SyntaxError:
        return None
    called = [known[name] for name in _called(node) if name in known]
    return max(called) if called else None


def _called(node: ast.AST) -> set[str]:
    """Plain names of what `node` calls: `f` of `f(x)`, `gradient` of `self.gradient(x, t)`."""
    names = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _own_step(function: ast.FunctionDef | ast.AsyncFunctionDef) -> float | None:
    """The step of a function that is a finite difference itself: an entry of an array set to a value
    plus or minus the step, a call in the same function, and a difference divided by the step or twice it."""
    moved: set[str] = set()  # the steps entries are moved by: `h` of `x[idx] = tmp + h`, or `1e-4` written out
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(isinstance(t, ast.Subscript) for t in targets):
                continue
            if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
                moved |= _step_names(node.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, (ast.Add, ast.Sub)):
                moved |= _step_names(node.value.right) | _step_names(node.value.left)
    if not moved or not any(isinstance(n, ast.Call) for n in ast.walk(function)):
        return None
    divided: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.left, ast.BinOp) and isinstance(node.left.op, ast.Sub):
            divided |= _step_names(node.right)
    steps_ = [value for key in moved & divided if (value := _value(function, key)) is not None and value > 0]
    return max(steps_) if steps_ else None


def _step_names(node: ast.AST) -> set[str]:
    """`h` of `h`, `2 * h`, `(2 * h)`, `2.0 * eps`; a number written out as its text."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return {repr(float(node.value))}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if isinstance(node.left, ast.Constant) and node.left.value in (2, 2.0):
            return _step_names(node.right)
        if isinstance(node.right, ast.Constant) and node.right.value in (2, 2.0):
            return _step_names(node.left)
    return set()


def _value(function: ast.FunctionDef | ast.AsyncFunctionDef, key: str) -> float | None:
    """The number `key` stands for in `function`: written out, bound to a number there, or a parameter's default."""
    try:
        return float(key)
    except ValueError:
        pass
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == key for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, (int, float)) and not isinstance(node.value.value, bool):
                return float(node.value.value)
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    for argument, default in zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults):
        if argument.arg == key and isinstance(default, ast.Constant) and isinstance(default.value, (int, float)):
            return float(default.value)
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        if argument.arg == key and isinstance(default, ast.Constant) and isinstance(default.value, (int, float)):
            return float(default.value)
    return None
