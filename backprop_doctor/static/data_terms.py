"""The data term of a gradient that a later statement finishes with its parameter's penalty.

    dV = np.zeros_like(V)
    np.add.at(dV, items, 2 * err[:, None] * U[users] / m)   # the data term
    dV += 2 * lam * V                                        # the L2 term, added to it

`data_term_before(tree, line, parameter)`: when the statement at `line` only adds a multiple of
`parameter` to a gradient (`dV += 2 * lam * V`, `self.dW = self.dW + self.reg * self.W`,
`grads["W"] += reg * params["W"]`), the line of the last statement before it, in the same block, that
writes that gradient with anything but zeros (an assignment, an indexed or augmented one,
`np.add.at(dV, ...)`), as a `DataTerm`; None otherwise. The replay names that statement when the gradient's error is
no multiple of the parameter, so no strength of the penalty could be what is wrong. Nothing here runs
user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class DataTerm:
    line: int  # the data term's statement (`np.add.at(dV, items, ...)`)
    end_line: int
    text: str  # as written, unparsed
    penalty_line: int  # the statement that adds the penalty to it (`dV += 2 * lam * V`)

_ZEROS = {"zeros", "zeros_like", "empty", "empty_like"}


def data_term_before(tree: ast.Module | None, line: int, parameter: str) -> DataTerm | None:
    if tree is None or not parameter:
        return None
    for node in walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list) or not block or not isinstance(block[0], ast.stmt):
                continue
            for index, statement in enumerate(block):
                if statement.lineno != line:
                    continue
                gradient = _penalty_added(statement, parameter)
                if gradient is None:
                    return None
                earlier = [s for s in block[:index] if _writes(s, gradient)]
                data = [s for s in earlier if not _zeros(s) and not _rescales_only(s, gradient)]
                if not data or any(_writes_inside(s, gradient) for s in block[block.index(data[-1]) + 1 : index]):
                    return None  # `dW /= N` after the loop that adds the terms up: no one statement holds the data term
                term = data[-1]
                return DataTerm(term.lineno, term.end_lineno or term.lineno, ast.unparse(term), line)
    return None


def _last(node: ast.AST) -> str | None:
    """`V` of `V`, `self.V`, `params["V"]`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    return None


def _factors(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        return [*_factors(node.left), *( _factors(node.right) if isinstance(node.op, ast.Mult) else [node.right])]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _factors(node.operand)
    return [node]


def _penalty_term(node: ast.expr, parameter: str) -> ast.expr | None:
    """The array of `2 * lam * V`, `self.reg * self.W`, `reg * params["W"] / m`: the parameter once, times
    numbers and settings (names, attributes), nothing else read; None for any other expression."""
    factors = _factors(node)
    arrays = [f for f in factors if _last(f) == parameter]
    others = [f for f in factors if _last(f) != parameter]
    if len(arrays) != 1 or len(factors) < 2:
        return None
    plain = all(isinstance(f, ast.Constant) and isinstance(f.value, (int, float)) or isinstance(f, (ast.Name, ast.Attribute)) for f in others)
    return arrays[0] if plain else None


def _penalty_added(statement: ast.stmt, parameter: str) -> str | None:
    """The gradient `statement` adds a penalty term of `parameter` to (`dV` of `dV += lam * V` or
    `dV = dV + lam * V`), as written; None for any other statement, and for one that adds the
    parameter to itself."""
    array: ast.expr | None = None
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Add):
        target, array = statement.target, _penalty_term(statement.value, parameter)
    elif (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.value, ast.BinOp)
        and isinstance(statement.value.op, ast.Add)
    ):  # fmt: skip
        target = statement.targets[0]
        left, right = statement.value.left, statement.value.right
        if ast.unparse(left) == ast.unparse(target):
            array = _penalty_term(right, parameter)
        elif ast.unparse(right) == ast.unparse(target):
            array = _penalty_term(left, parameter)
    else:
        return None
    if array is None or not isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)) or ast.unparse(target) == ast.unparse(array):
        return None
    return ast.unparse(target)


def _writes(statement: ast.stmt, gradient: str) -> bool:
    """`statement` writes `gradient`, whole or in part: `dV = ...`, `dV[i] += ...`, `np.add.at(dV, ...)`."""
    if isinstance(statement, (ast.Assign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            while isinstance(target, ast.Subscript) and ast.unparse(target) != gradient:
                target = target.value
            if ast.unparse(target) == gradient:
                return True
        return False
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        func = call.func
        named = isinstance(func, ast.Attribute) and func.attr == "at" and isinstance(func.value, ast.Attribute) and func.value.attr in ("add", "subtract")
        return named and bool(call.args) and ast.unparse(call.args[0]) == gradient
    return False


def _rescales_only(statement: ast.stmt, gradient: str) -> bool:
    """`dW /= num_train`, `dW = dW * 0.5`: a statement that only scales the gradient made before it."""
    from backprop_doctor.static.derivatives import rescaling

    return "." not in gradient and "[" not in gradient and rescaling(statement, gradient) is not None


def _writes_inside(statement: ast.stmt, gradient: str) -> bool:
    """A loop or branch whose body writes `gradient` (`for i in ...: dW[:, j] += X[i]`)."""
    if not isinstance(statement, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.Try)):
        return False
    return any(isinstance(n, ast.stmt) and _writes(n, gradient) for n in walk(statement) if n is not statement)


def _zeros(statement: ast.stmt) -> bool:
    """`dV = np.zeros_like(V)`, `dV = 0`: a gradient started, not a term of it."""
    if not isinstance(statement, ast.Assign):
        return False
    value = statement.value
    if isinstance(value, ast.Constant):
        return value.value == 0
    if isinstance(value, ast.Call):
        name = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
        return name in _ZEROS
    return False
