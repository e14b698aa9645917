"""The output error written target minus output, in a function a training step calls.

A step whose every update subtracts a gradient that is the loss's with its sign flipped (the replay
measures that) has one statement to blame when the backward it calls starts from the error written
the other way round: `errors.append(expected[j] - neuron['output'])` in
`backward_propagate_error(network, expected)`, handed the loop's `expected`, which no parameter
computes. `target_first` finds that subtraction, read from the source only.
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
    return found[0] if len(found) == 1 else None


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
    return taken
