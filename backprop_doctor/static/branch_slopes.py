"""A layer that picks its activation by name, and one branch of its backward with another's derivative.

    def backward(self, grad):
        if self.activation == "tanh":
            grad = grad * (1.0 - self.out)            # tanh's derivative is 1 - out ** 2
        elif self.activation == "sigmoid":
            grad = grad * self.out * (1.0 - self.out)

A Keras-like `Dense(units, activation="tanh")` written in NumPy chooses its derivative by comparing a
name; the gradient check sees the layer's three gradients wrong at the lines that read `grad`, none
of which is wrong. `misnamed_slope` reads each branch of such a choice and names the one whose
derivative is not that of the activation its test names, with the derivative written with the same
output. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.derivatives import _one_minus
from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class MisnamedSlope:
    line: int  # the branch's statement
    activation: str  # "tanh", "sigmoid"
    written: str  # "1.0 - self.out"
    fix: str  # "1.0 - self.out ** 2"
    statement: str  # the statement as written


def misnamed_slope(function: Function) -> MisnamedSlope | None:
    """The branch of an activation's choice by name (`if self.activation == "tanh":`) whose derivative
    is written as another's: `1 - out` for tanh (its derivative is `1 - out ** 2`), `1 - out ** 2` or
    `1 - out` alone for sigmoid (`out * (1 - out)`)."""
    for node in walk(function):
        if not isinstance(node, ast.If):
            continue
        kind = _named(node.test)
        if kind is None:
            continue
        for statement in node.body:
            value = getattr(statement, "value", None)
            if not isinstance(statement, (ast.Assign, ast.AugAssign)) or value is None:
                continue
            found = _wrong_slope(value, kind)
            if found is not None:
                written, fix = found
                return MisnamedSlope(statement.lineno, kind, written, fix, ast.unparse(statement))
    return None


def _named(test: ast.expr) -> str | None:
    """"tanh" of `self.activation == "tanh"` (or `"tanh" == act`); None for any other test."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    sides = [test.left, test.comparators[0]]
    words = [s.value.lower() for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)]
    return words[0] if len(words) == 1 and words[0] in ("tanh", "sigmoid") else None


def _wrong_slope(value: ast.expr, kind: str) -> tuple[str, str] | None:
    """(the derivative as written, as it should be) when `value` multiplies by a one-minus term that is not
    `kind`'s derivative; None when it is, or holds none."""
    products = [n for n in walk(value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult)]
    minus = [n for n in walk(value) if _one_minus(n) is not None]
    if not minus:
        return None
    term = minus[0]
    inner = _one_minus(term)
    squared = isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Pow) and isinstance(inner.right, ast.Constant) and inner.right.value == 2
    if kind == "tanh":
        if squared:
            return None
        return ast.unparse(term), f"{ast.unparse(term.left)} - {ast.unparse(inner)} ** 2"
    # sigmoid: `out * (1 - out)`, the output beside its one-minus in one product
    base = inner.left if squared else inner
    beside = any(
        _one_minus(side) is not None and ast.dump(_one_minus(side)) == ast.dump(other)
        for p in products for side, other in ((p.left, p.right), (p.right, p.left))
    ) or any(ast.dump(n) == ast.dump(base) for p in products for n in (p.left, p.right) if n is not term and not _contains(n, term))
    if not squared and beside:
        return None
    return ast.unparse(term), f"{ast.unparse(base)} * ({ast.unparse(term.left)} - {ast.unparse(base)})"


def _contains(node: ast.AST, part: ast.AST) -> bool:
    return any(n is part for n in walk(node))
