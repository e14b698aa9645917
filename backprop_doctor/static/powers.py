"""The power rule applied without lowering the exponent: `-0.5 * (var + eps) ** -0.5` where the derivative
of `(var + eps) ** -0.5` is `-0.5 * (var + eps) ** -1.5`.

`unlowered_power` reads the function around a line for a product of a number and a power of the same
number (c · u ** c, c not 0 or 1): what the power rule gives is c · u ** (c - 1). Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.steps import _scope_of
from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class UnloweredPower:
    line: int
    written: str  # "(var + self.eps) ** -0.5"
    base: str  # "var + self.eps"
    exponent: float  # -0.5
    factor: float  # -0.5


def unlowered_power(tree: ast.Module, line: int) -> UnloweredPower | None:
    """In the function holding `line`, a product `c * u ** c` (c a number other than 0 and 1, written as
    one factor of the product and as the exponent)."""
    function = _scope_of(tree, line)
    if function is tree:
        return None  # a module-level line: no function to read
    for node in walk(function):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        factors = _factors(node)
        numbers = [v for f in factors if (v := _number(f)) is not None]
        for f in factors:
            if isinstance(f, ast.BinOp) and isinstance(f.op, ast.Pow) and (e := _number(f.right)) is not None and e not in (0.0, 1.0, 2.0):
                if any(c == e for c in numbers) and not float(e).is_integer():
                    return UnloweredPower(f.lineno, ast.unparse(f), ast.unparse(f.left), e, e)
    return None


def _factors(node: ast.expr) -> list[ast.expr]:
    """The operands of a chain of multiplications."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and (v := _number(node.operand)) is not None:
        return -v
    return None
