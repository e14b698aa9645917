"""An AdaGrad optimizer keeps no sum of the squared gradients from one update to the next.

What it finds:
    An optimizer named for AdaGrad (an `AdaGrad` class with `update(params,
    grads)`, a function `adagrad_update(params, grads, h, lr)` over the
    network's dictionary or a list) is given the same gradient at four updates
    in a row, on fresh arrays. AdaGrad divides each step by the root of the sum
    of all squared gradients so far, so its moves shrink: 1, 1/√2, 1/√3, 1/2 of
    the first. One whose moves stay the same keeps no sum: the state is
    overwritten (`h[key] = g * g`) instead of added to (`+=`). The finding is
    at that assignment.

Why it matters:
    With the sum replaced by the latest square, each step is `lr * g / |g|`:
    every weight moves by the full learning rate in the direction of its
    gradient's sign, however small the gradient, and never less as training
    goes on. The loss stops falling early and hovers, and the learning rate
    that suited AdaGrad is far too large for what the code does.

Example:
    h[key] = grads[key] * grads[key]
    params[key] -= lr * grads[key] / (np.sqrt(h[key]) + 1e-7)

Fix:
    h[key] += grads[key] * grads[key]
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree

NAME = "adagrad-sum-not-kept"
CODE = "BPD211"
SEVERITY = "error"
STAGE = "contract"


def run(context: Any) -> Iterator[Finding]:
    for drift in context.extras.get("adagrad_drift", []):
        yield _finding(drift)


def _finding(drift: Any) -> Finding:
    shown = f"{drift.cls.__name__}.{drift.method}" if drift.method else drift.cls.__name__
    where = definition(getattr(drift.cls, drift.method, None) if drift.method else drift.cls)
    line, store = (where.line if where is not None else None), None
    if where is not None and (tree := source_tree(where.file)[1]) is not None and (node := find_function(tree, where.qualname)) is not None:
        store = overwritten_sum(node)
    if store is not None:
        line = store.lineno
        statement = ast.unparse(store)
        cause = f"line {line} (`{statement}`) replaces the sum with the latest square: add to it (`+=`)"
        fix = f"{ast.unparse(store.targets[0])} += {ast.unparse(store.value)}"
    else:
        cause, fix = "the sum it divides by is not kept for the next update: add each squared gradient to it and keep it", None
    ratios = ", ".join(f"{r:.4g}" for r in drift.ratios)
    return rule(NAME).finding(
        f"`{shown}` keeps no sum of squared gradients: given the same gradient at every update, AdaGrad's steps shrink "
        f"(1, 0.707, 0.577, 0.5 of the first) and yours stay the same, a step of the learning rate along the gradient's "
        f"sign whatever its size; {cause}",
        layer=drift.cls.__name__,
        file=where.file if where is not None else None,
        line=line,
        fix=fix,
        highlight=(line,) if line else (),
        evidence=(("moves ÷ the first move, updates 1 to 4 (AdaGrad: 1, 0.707, 0.577, 0.5)", ratios),),
    )


def overwritten_sum(function: Any) -> ast.Assign | None:
    """`h[key] = g * g` (`self.h[k] = grads[k] ** 2`, `cache = dw ** 2`): an assignment of a square to a
    store that a later statement of the function divides by the root of, and whose own value does not
    read that store."""
    roots = {ast.unparse(n.args[0]) for n in ast.walk(function) if isinstance(n, ast.Call) and ast.unparse(n.func).rsplit(".", 1)[-1] == "sqrt" and n.args}
    for node in sorted((n for n in ast.walk(function) if isinstance(n, ast.Assign) and len(n.targets) == 1), key=lambda n: n.lineno):
        target = ast.unparse(node.targets[0])
        if target not in roots or not _square(node.value):
            continue
        if target in {ast.unparse(n) for n in ast.walk(node.value)}:
            continue  # `h = rho * h + (1 - rho) * g * g`: a running average, kept
        return node
    return None


def _square(value: ast.expr) -> bool:
    """`g * g`, `g ** 2`, `np.square(g)`."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        return ast.unparse(value.left) == ast.unparse(value.right)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Pow):
        return isinstance(value.right, ast.Constant) and value.right.value == 2
    return isinstance(value, ast.Call) and ast.unparse(value.func).rsplit(".", 1)[-1] == "square"
