"""The power rule half applied: the exponent not lowered (`-0.5 * (var + eps) ** -0.5` where the derivative of
`(var + eps) ** -0.5` is `-0.5 * (var + eps) ** -1.5`), or not brought down as a factor (`0.044715 * x ** 2`
for the derivative of `0.044715 * x ** 3`, which is `3 * 0.044715 * x ** 2`).

`unlowered_power` reads the function around a line for a product of a number and a power of the same
number (c · u ** c, c not 0 or 1): what the power rule gives is c · u ** (c - 1). `unbrought_power` reads it
for a product c · u ** k whose forward, elsewhere in the file, is c · u ** (k + 1) with the same number and
base, and no factor k + 1 beside it. Nothing here runs user code.
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


@dataclass(frozen=True)
class UnbroughtPower:
    line: int
    written: str  # "0.044715 * x ** 2"
    forward: str  # "0.044715 * x ** 3"
    forward_line: int
    exponent: float  # 3.0: the forward's, the factor left out


def unbrought_power(tree: ast.Module, line: int) -> UnbroughtPower | None:
    """In the function holding `line`, a product `c * u ** k` (or `c * u`, k = 1) whose forward, a product
    `c * u ** (k + 1)` of the same number and base in another function of the file, gives the derivative
    `(k + 1) * c * u ** k`, where no number of the product is k + 1 or (k + 1) · c."""
    function = _scope_of(tree, line)
    if function is tree:
        return None
    forwards: dict[tuple[float, str, float], ast.BinOp] = {}
    inside = {id(n) for n in walk(function)}
    for node in walk(tree):
        if id(node) in inside or not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        for c, base, e in _scaled_powers(node):
            if e not in (0.0, 1.0):
                forwards.setdefault((c, base, e), node)
    if not forwards:
        return None
    for node in walk(function):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        numbers = [v for f in _factors(node) if (v := _number(f)) is not None]
        for c, base, k in _scaled_powers(node, plain=True):
            forward = forwards.get((c, base, k + 1))
            if forward is None or any(n in (k + 1, (k + 1) * c) for n in numbers):
                continue
            return UnbroughtPower(node.lineno, ast.unparse(node), ast.unparse(forward), forward.lineno, k + 1)
    return None


def _scaled_powers(node: ast.BinOp, plain: bool = False) -> list[tuple[float, str, float]]:
    """(c, base, exponent) for each number c and power `base ** exponent` among the factors of a product;
    with `plain`, each other factor that is no number counts as its base to the power 1 (`0.5 * (y - t)`)."""
    factors = _factors(node)
    numbers = [v for f in factors if (v := _number(f)) is not None and v not in (0.0, 1.0)]
    found = []
    for f in factors:
        if isinstance(f, ast.BinOp) and isinstance(f.op, ast.Pow) and (e := _number(f.right)) is not None:
            found += [(c, _base(f.left), e) for c in numbers]
        elif plain and _number(f) is None and not isinstance(f, ast.BinOp):
            found += [(c, _base(f), 1.0) for c in numbers]
    return found


def _base(node: ast.expr) -> str:
    """A power's base as written, an attribute of `self` read as the name it keeps (`self.x`, stored by
    forward from its argument `x`)."""
    text = ast.unparse(node)
    return text.removeprefix("self.")
