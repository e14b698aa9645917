"""The output error written target minus output, in a function a training step calls.

A step whose every update subtracts a gradient that is the loss's with its sign flipped (the replay
measures that) has one statement to blame when the backward it calls starts from the error written
the other way round: `errors.append(expected[j] - neuron['output'])` in
`backward_propagate_error(network, expected)`, handed the loop's `expected`, which no parameter
computes. `target_first` finds that subtraction, read from the source only; when the functions the step
calls once hold none, it follows the data down every call the pass makes, in a loop or not
(`_through_calls`): Nielsen's `update_mini_batch(mini_batch, eta)` looping `for x, y in mini_batch`
over `self.backprop(x, y)`, which starts from `self.cost_derivative(activations[-1], y)`, whose
`return (y - output_activations)` is that error.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class TargetFirst:
    """`expected[j] - neuron['output']` at `line`, and the same written output minus target."""

    line: int
    written: str
    fix: str
    function: str


def target_first(tree: ast.Module | None, prefix: Sequence[ast.stmt], updating: Sequence[ast.stmt]) -> TargetFirst | None:
    """The one subtraction of the functions the step calls once whose left side reads a value handed in
    from the loop that no parameter made (the targets, or a name a loop takes from them:
    `for neuron, target in zip(layer, targets)`) and whose right side reads none of them; None when
    there is no such subtraction, or more than one."""
    if tree is None:
        return None
    from backprop_doctor.static.step_functions import called_functions
    from backprop_doctor.static.steps import _computed_from_parameters

    statements = (*prefix, *updating)
    produced = _computed_from_parameters(prefix, updating)
    # what the updating calls are handed holds the parameters (`update_weights(network, row, l_rate)`): never a target
    produced |= {a.id for stmt in updating for n in walk(stmt) if isinstance(n, ast.Call) for a in n.args if isinstance(a, ast.Name)}
    calls = [n for stmt in statements for n in walk(stmt) if isinstance(n, ast.Call)]
    found: list[TargetFirst] = []
    for name, function in called_functions(tree, statements):
        short = name.rsplit(".", 1)[-1]
        call = next((c for c in calls if (c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", None)) == short), None)
        if call is None or any(isinstance(a, ast.Starred) for a in call.args):
            continue
        parameters = [a.arg for a in function.args.args]
        if "." in name and isinstance(call.func, ast.Attribute) and parameters:
            parameters = parameters[1:]  # `self`
        bound = dict(zip(parameters, call.args))
        given = {p for p, a in bound.items() if isinstance(a, ast.Name) and a.id not in produced}
        if not given:
            continue
        given |= _taken_from(function, given)
        for node in walk(function):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                left, right = _roots(node.left), _roots(node.right)
                if left and left <= given and right and not right & given:
                    fix = ast.unparse(ast.BinOp(node.right, ast.Sub(), node.left))
                    found.append(TargetFirst(node.lineno, ast.unparse(node), fix, short))
    if not found:
        return _through_calls(tree, statements, _computed_from_parameters(prefix, updating))
    return found[0] if len(found) == 1 else None


DEPTH = 4  # how many calls deep `_through_calls` follows the pass


def _through_calls(tree: ast.Module, statements: Sequence[ast.stmt], produced: set[str]) -> TargetFirst | None:
    """`target_first` through every call of the file's functions the pass makes, a looped one too, down
    to `DEPTH` calls: a parameter is given when its call hands it a name the pass does not compute from
    the parameters, or a name given to the caller; names a `for` takes from given ones are given
    (`for x, y in mini_batch`). The one subtraction found that way, else None."""
    from backprop_doctor.static.step_functions import _definitions

    functions, methods = _definitions(tree)

    def resolve(call: ast.Call) -> tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool] | None:
        func = call.func
        if isinstance(func, ast.Name) and func.id in functions:
            return func.id, functions[func.id], False
        if isinstance(func, ast.Attribute) and len(methods.get(func.attr, ())) == 1:
            return func.attr, methods[func.attr][0][1], True
        return None

    found: dict[int, TargetFirst] = {}
    visited: set[tuple[int, frozenset[str]]] = set()

    def search(nodes: Sequence[ast.AST], given: set[str], depth: int) -> None:
        for call in (n for node in nodes for n in walk(node) if isinstance(n, ast.Call)):
            target = resolve(call)
            if target is None or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            short, function, method = target
            parameters = [a.arg for a in function.args.args]
            if method and parameters:
                parameters = parameters[1:]  # `self`
            bound = dict(zip(parameters, call.args))
            bound.update({k.arg: k.value for k in call.keywords if k.arg in parameters})
            inner = {p for p, a in bound.items() if isinstance(a, ast.Name) and a.id in given}
            if not inner:
                continue
            inner |= _taken_from(function, inner)
            key = (id(function), frozenset(inner))
            if key in visited:
                continue
            visited.add(key)
            for node in walk(function):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                    left, right = _roots(node.left), _roots(node.right)
                    if left and left <= inner and right and not right & inner:
                        fix = ast.unparse(ast.BinOp(node.right, ast.Sub(), node.left))
                        found.setdefault(node.lineno, TargetFirst(node.lineno, ast.unparse(node), fix, short))
            if depth < DEPTH:
                search(function.body, inner, depth + 1)

    names = {n.id for stmt in statements for n in walk(stmt) if isinstance(n, ast.Name)}
    given = {name for name in names if name not in produced}
    given |= _taken_from(ast.Module(body=list(statements), type_ignores=[]), given)
    search(statements, given, 1)
    return next(iter(found.values())) if len(found) == 1 else None


def _roots(node: ast.expr) -> set[str]:
    """The names an operand reads its values from (`expected` of `expected[j]`, `neuron` of `neuron.output`);
    an index is no value of it."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    if isinstance(node, ast.Name):
        return {node.id}
    return set()


def _taken_from(function: ast.AST, given: set[str]) -> set[str]:
    """Names a `for` of the function takes from the given values: `target` of
    `for neuron, target in zip(layer, targets)`, `t` of `for t in targets`."""
    taken: set[str] = set()
    for node in walk(function):
        if not isinstance(node, ast.For):
            continue
        it, target = node.iter, node.target
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "zip" and isinstance(target, ast.Tuple):
            for element, source in zip(target.elts, it.args):
                if isinstance(element, ast.Name) and _roots(source) <= given and _roots(source):
                    taken.add(element.id)
        elif isinstance(target, ast.Name) and _roots(it) and _roots(it) <= given:
            taken.add(target.id)
        elif isinstance(target, ast.Tuple) and _roots(it) and _roots(it) <= given:
            taken |= {e.id for e in target.elts if isinstance(e, ast.Name)}  # `for x, y in mini_batch`
    return taken
