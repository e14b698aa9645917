"""The output function a network's loss reads and the one its hand-written gradient assumes.

A network class without layer objects computes its loss through `predict` (or `forward`) and its
gradient in a method of its own that runs the forward pass again. When the two end in different
functions (`predict` returns `sigmoid(...)`, `gradient` takes `y = softmax(...)` and starts from
`dy = (y - t) / n`), every parameter's gradient is "somewhat off" and a check names them all: what
is wrong is the one choice of output. `output_disagreement` reads the class and names both lines;
nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef

_OUTPUTS = ("softmax", "sigmoid")
_FORWARDS = ("predict", "forward", "feedforward", "feed_forward", "forward_propagation", "forward_pass")


@dataclass(frozen=True)
class Disagreement:
    """`predict` ends in `sigmoid` (line 28) while `gradient` starts from `softmax` (line 39)."""

    forward: str  # "predict"
    forward_output: str  # "sigmoid"
    forward_line: int
    gradient: str  # "gradient"
    gradient_output: str  # "softmax"
    gradient_line: int  # where the gradient method applies its output function
    difference_line: int  # `dy = (y - t) / n`: the output's gradient that assumes it


def output_disagreement(tree: ast.Module | None, class_name: str) -> Disagreement | None:
    """The forward method's output function and the gradient method's, when they differ."""
    cls = next((n for n in walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name), None) if tree is not None else None
    if cls is None:
        return None
    methods = {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    forward = next((methods[name] for name in _FORWARDS if name in methods), None)
    ended = _ends_in(forward) if forward is not None else None
    if forward is None or ended is None:
        return None
    for name, method in methods.items():
        if method is forward or not any(word in name.lower() for word in ("grad", "backward", "backprop")):
            continue
        assumed = _starts_from(method)
        if assumed is not None and assumed[0] != ended[0]:
            return Disagreement(forward.name, ended[0], ended[1], name, assumed[0], assumed[1], assumed[2])
    return None


def _output_call(value: ast.expr | None) -> str | None:
    """"softmax" for `softmax(a2)`, `self.softmax(a2)`, `F.sigmoid(z)`."""
    if not isinstance(value, ast.Call):
        return None
    name = ast.unparse(value.func).rpartition(".")[2].lower()
    return next((output for output in _OUTPUTS if name == output or name == f"_{output}"), None)


def _assigned(method: Function, name: str, before: int) -> ast.Assign | None:
    found = [
        n for n in walk(method)
        if isinstance(n, ast.Assign) and n.lineno < before and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
    ]  # fmt: skip
    return found[-1] if found else None


def _ends_in(method: Function) -> tuple[str, int] | None:
    """(output function, line) of what a forward method returns: `return sigmoid(...)`, or a name last
    bound to one."""
    returns = [n for n in walk(method) if isinstance(n, ast.Return) and n.value is not None]
    if len(returns) != 1:
        return None
    value = returns[0].value
    output = _output_call(value)
    if output is not None:
        return output, returns[0].lineno
    if isinstance(value, ast.Name) and (made := _assigned(method, value.id, returns[0].lineno)) is not None:
        output = _output_call(made.value)
        return (output, made.lineno) if output is not None else None
    return None


def _starts_from(method: Function) -> tuple[str, int, int] | None:
    """(output function, its line, the difference's line) of a gradient method that computes the output's
    gradient as `y - t` with `y` bound to an output function's result and `t` one of its arguments."""
    arguments = {a.arg for a in method.args.args}
    for node in walk(method):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)):
            continue
        left, right = node.left, node.right
        if isinstance(left, ast.Name) and isinstance(right, ast.Name) and right.id in arguments:
            made = _assigned(method, left.id, node.lineno)
            output = _output_call(made.value) if made is not None else None
            if output is not None and made is not None:
                return output, made.lineno, node.lineno
    return None
