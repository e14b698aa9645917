"""Where in one backward the wrong gradients part from the right ones.

A loss-and-gradients function (cs231n's `TwoLayerNet.loss`, a `backprop(X, y)` that returns a dict)
computes every gradient from a chain of adjoints. When some of its gradients are wrong and the others
right, the mistake sits in a statement that only the wrong ones read: `dz = dh * 0.5 * (h > 0)` feeds
`grads["W1"]` and `grads["b1"]`, never `grads["W2"]`. The gradient lines are only where it shows.

Only the function's own straight-line assignments are followed (the names each one reads, back to
the last statement that binds them), as `static.upstream` follows them.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from backprop_doctor.static.penalty_strength import literal_number
from backprop_doctor.static.upstream import _depends_on, returns, straight_body


@dataclass(frozen=True)
class WrongOnly:
    """The statements only the wrong gradients are computed from, and the one to name."""

    named: ast.stmt  # the statement the finding points at
    chain: tuple[ast.stmt, ...]  # every statement only the wrong gradients read, in source order
    literal: bool  # `named` holds the constant of the wrong gradients' shared factor


def gradient_statements(function: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> list[ast.stmt]:
    """The assignments of `function`'s own body that store the gradient of `param`: `dW2 = ...`,
    `grads["W2"] = ...`, `grads['dW2'] = ...`, `self.dW2 = ...`, `grad_W2 = ...`."""
    key = param.rpartition(".")[2]
    if not key.isidentifier():
        return []
    names = {f"d{key}", f"d_{key}", f"grad_{key}", f"grad{key}", f"{key}_grad", f"g_{key}"}
    found = []
    for stmt in straight_body(function):
        for target in _targets(stmt):
            if isinstance(target, ast.Name) and target.id in names:
                found.append(stmt)
            elif isinstance(target, ast.Attribute) and target.attr in names:
                found.append(stmt)
            elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and target.slice.value in (key, *names):
                found.append(stmt)
    return found


def wrong_only(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    wrong: list[int],
    right: list[int],
    factor: float | None = None,
    module: ast.Module | None = None,
) -> WrongOnly | None:
    """The statement the gradients at lines `wrong` are all computed from and those at lines `right` are
    not, in `function`'s own straight-line body; None where they share none, a line is not in that body,
    or the chain calls a function (which has findings of its own).

    The statement named: the one holding the constant `factor` where the wrong gradients share one
    (`dh * 0.5`, `/ 2`), else the latest of the chain that is not a mask (`dh[h <= 0] = 0` is right
    whatever the entries it keeps hold)."""
    body = straight_body(function)
    at = {s.lineno: s for s in (*body, *returns(function))}  # `return dq @ Wq.T + ...`: the input gradient, where it shows
    if len(wrong) < 2 or not right or any(line not in at for line in (*wrong, *right)):
        return None
    shared = set.intersection(*(_depends_on(body, at[line]) for line in wrong))
    for line in right:
        shared -= _depends_on(body, at[line]) | {line}
    if not shared or shared & set(wrong):
        return None
    chain = tuple(at[line] for line in sorted(shared))
    if any(_calls_own(n) for s in chain for n in ast.walk(s)):
        return None
    if factor is not None:
        holding = [s for s in chain if _holds_factor(s, factor)]
        if len(holding) == 1:
            return WrongOnly(holding[0], chain, True)
    candidates = [s for s in chain if not _masks(s) and not _unpacks_parameters(s)]
    if module is not None:
        candidates = [s for s in candidates if not _rescales_as_elsewhere(s, function, module)] or candidates
    if not candidates:
        return None
    return WrongOnly(candidates[-1], chain, False)


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    return list(stmt.targets) if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]


# bare calls that are not the user's own functions (`relu_backward(dh, h)` has findings of its own)
_BUILTINS = frozenset({"len", "abs", "max", "min", "sum", "float", "int", "range", "tuple", "list"})


def _calls_own(node: ast.AST) -> bool:
    """A call of the user's own function or method (`relu_backward(dh, h)`, `self.squash_prime(z)`), which has
    findings of its own where it is wrong; NumPy's and an array's methods (`np.dot`, `dz.sum()`) are not."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id not in _BUILTINS
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")


def _rescaling(stmt: ast.stmt) -> tuple[type[ast.operator], str] | None:
    """`d = d * c`, `d = c * d`, `d *= c`, `d = d / c`, `d /= c` with `c` a name or attribute (not a literal,
    which `factor` weighs): the operator and `c`'s text."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        name, op, operands = stmt.target.id, stmt.op, [stmt.value]
    elif (
        isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.BinOp)
    ):  # fmt: skip
        name, op = stmt.targets[0].id, stmt.value.op
        left, right = stmt.value.left, stmt.value.right
        if isinstance(left, ast.Name) and left.id == name:
            operands = [right]
        elif isinstance(op, ast.Mult) and isinstance(right, ast.Name) and right.id == name:
            operands = [left]
        else:
            return None
    else:
        return None
    (factor,) = operands
    if not isinstance(op, (ast.Mult, ast.Div)) or not isinstance(factor, (ast.Name, ast.Attribute)):
        return None
    return type(op), ast.unparse(factor)


def _rescales_as_elsewhere(stmt: ast.stmt, function: ast.AST, module: ast.Module) -> bool:
    """`dS = dS * self.scale` where another function of `module` (the forward) multiplies by `self.scale` too:
    the backward of a product by a constant is the same product, right whatever the adjoint it scales."""
    found = _rescaling(stmt)
    if found is None:
        return False
    op, text = found
    inside = {id(n) for n in ast.walk(function)}
    return any(
        isinstance(n, ast.BinOp) and isinstance(n.op, op) and id(n) not in inside
        and (ast.unparse(n.right) == text or (op is ast.Mult and ast.unparse(n.left) == text))
        for n in ast.walk(module)
    )  # fmt: skip


def rescaled_from(body: list[ast.stmt], stmt: ast.stmt, function: ast.AST, module: ast.Module) -> ast.stmt | None:
    """The statement of `body` whose value `stmt` rescales as the rest of `module` does (`ds = ds * self.scale`
    after `ds = a * (da - ...)`), or None where `stmt` is no such rescaling."""
    if not _rescales_as_elsewhere(stmt, function, module):
        return None
    (target,) = _targets(stmt)
    name = target.id  # type: ignore[attr-defined]
    return next(
        (
            s for s in reversed(body)
            if s.lineno < stmt.lineno and any(isinstance(t, ast.Name) and t.id == name for t in _targets(s))
        ),
        None,
    )  # fmt: skip


def _masks(stmt: ast.stmt) -> bool:
    """`d[h <= 0] = 0`: entries set to a constant, a mask."""
    return (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Subscript)
        and isinstance(stmt.value, ast.Constant)
    )


def _unpacks_parameters(stmt: ast.stmt) -> bool:
    """`W1, b1, W2, b2 = model['W1'], model['b1'], model['W2'], model['b2']`, `W = self.params['W']`: a statement
    whose value only reads entries of the parameters' containers under their keys computes nothing, so no gradient
    is wrong because of it; the wrong gradients share it only because they read the parameters."""
    if not isinstance(stmt, ast.Assign):
        return False
    value = stmt.value
    elements = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]

    def read(node: ast.expr) -> bool:  # `model['W1']`, `self.params["b2"]`: an entry under its key (not `self.act1`, an object shared)
        return (
            isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
            and isinstance(node.value, (ast.Name, ast.Attribute)) and _plain_chain(node.value)
        )  # fmt: skip

    return bool(elements) and all(read(e) for e in elements)


def _plain_chain(node: ast.expr) -> bool:
    """`model`, `self.params`, `net.layer1`: names and attributes, nothing computed."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _holds_factor(stmt: ast.stmt, factor: float) -> bool:
    """Whether `stmt` multiplies by `factor` or divides by its inverse (`* 0.5`, `/ 2`)."""
    if not (math.isfinite(factor) and factor not in (0.0, 1.0, -1.0)):
        return False
    value = getattr(stmt, "value", None)
    for node in ast.walk(value) if value is not None else ():
        if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Mult, ast.Div)):
            continue
        for side in (node.left, node.right) if isinstance(node.op, ast.Mult) else (node.right,):
            number = literal_number(side)
            if number is None or number == 0:
                continue
            scale = number if isinstance(node.op, ast.Mult) else 1.0 / number
            if math.isclose(scale, factor, rel_tol=1e-6):
                return True
    return False
