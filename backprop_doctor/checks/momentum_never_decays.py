"""A momentum optimizer adds each step to its velocity without ever multiplying the old velocity by its coefficient.

What it finds:
    An optimizer named for momentum (a `Momentum` class with `update(params,
    grads)`, cs231n's `sgd_momentum(w, dw, config)`, deeplearning.ai's
    `update_parameters_with_momentum(parameters, grads, v, beta,
    learning_rate)`) is given the same gradient at four updates in a row, on
    fresh arrays. Momentum's moves grow by less at each update (1, 1 + μ,
    1 + μ + μ², ... times the first, levelling off at 1/(1 − μ) of it); one
    whose moves grow by the same amount every time (1, 2, 3, 4 times the
    first) has a velocity that sums every gradient since the start: its old
    value is never multiplied by the coefficient (`v = v - lr * g` for
    `v = mu * v - lr * g`). The statement that updates the velocity is named.

Why it matters:
    The coefficient does nothing, and the velocity never forgets: every step
    moves the weights by the sum of all gradients seen so far, so the
    effective learning rate grows with the number of updates. Training
    overshoots and oscillates, or diverges, however right the gradients are.

Example:
    for key in params.keys():
        self.v[key] = self.v[key] - self.lr * grads[key]
        params[key] += self.v[key]

Fix:
    for key in params.keys():
        self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
        params[key] += self.v[key]
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.locate import definition
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree

NAME = "momentum-never-decays"
CODE = "BPD212"
SEVERITY = "error"
STAGE = "contract"


@dataclass(frozen=True)
class Undecayed:
    """`self.v[key] = self.v[key] - self.lr * grads[key]`: the velocity `target` plus a step, never scaled."""

    line: int
    end_line: int
    statement: str
    target: str  # "self.v[key]"
    added: str  # "self.lr * grads[key]"
    sign: int  # -1: the step is subtracted


def _reads(node: ast.AST, text: str) -> bool:
    return any(ast.unparse(n) == text for n in ast.walk(node) if isinstance(n, ast.expr))


def _accumulated(stmt: ast.stmt) -> tuple[str, ast.expr, int] | None:
    """(target, added, sign) of `T -= X`, `T += X`, `T = T - X`, `T = T + X`, `T = X + T`, X not reading T."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.Sub)):
        target, added, sign = ast.unparse(stmt.target), stmt.value, -1 if isinstance(stmt.op, ast.Sub) else 1
    elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp)
          and isinstance(stmt.value.op, (ast.Add, ast.Sub))):  # fmt: skip
        target = ast.unparse(stmt.targets[0])
        value = stmt.value
        if ast.unparse(value.left) == target:
            added, sign = value.right, -1 if isinstance(value.op, ast.Sub) else 1
        elif isinstance(value.op, ast.Add) and ast.unparse(value.right) == target:
            added, sign = value.left, 1
        else:
            return None
    else:
        return None
    return (target, added, sign) if not _reads(added, target) else None


def _scales(stmt: ast.stmt, target: str) -> bool:
    """`T *= mu`, `T = mu * T + ...`: a statement that multiplies the velocity's old value."""
    if isinstance(stmt, ast.AugAssign) and ast.unparse(stmt.target) == target:
        return isinstance(stmt.op, (ast.Mult, ast.Div))
    if isinstance(stmt, ast.Assign) and any(ast.unparse(t) == target for t in stmt.targets):
        return any(isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Div)) and target in (ast.unparse(n.left), ast.unparse(n.right))
                   for n in ast.walk(stmt.value))  # fmt: skip
    return False


def _targets(stmt: ast.Assign | ast.AugAssign) -> list[str]:
    return [ast.unparse(t) for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])]


def undecayed_statement(function: ast.AST) -> Undecayed | None:
    """The first statement of `function` that adds a step to an array a later statement reads (`params[key] +=
    self.v[key]`, `next_w = w + v`), where no statement of it multiplies that array's old value."""
    statements = sorted((n for n in ast.walk(function) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno)
    for stmt in statements:
        got = _accumulated(stmt)
        if got is None:
            continue
        target, added, sign = got
        if any(_scales(other, target) for other in statements):
            continue
        later = [other for other in statements if other.lineno > stmt.lineno and target not in _targets(other)]
        if any(_reads(other.value, target) for other in later):
            return Undecayed(stmt.lineno, stmt.end_lineno or stmt.lineno, ast.unparse(stmt), target, ast.unparse(added), sign)
    return None


def _coefficient(drift: Any, function: ast.AST | None) -> str:
    """The coefficient as the function would read it: `self.momentum`, `config['momentum']`, `beta`."""
    setting = drift.setting or "momentum"
    args = [a.arg for a in function.args.args] if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    if drift.method:
        return f"{args[0] if args else 'self'}.{setting}"
    if setting.startswith("config[") and len(args) >= 3:
        return args[2] + setting[len("config"):]
    return setting


def run(context: Any) -> Iterator[Finding]:
    for drift in context.extras.get("momentum_drift", []):
        if drift.undecayed:
            yield _finding(drift)


def _finding(drift: Any) -> Finding:
    shown = f"{drift.cls.__name__}.{drift.method}" if drift.method else drift.cls.__name__
    where = definition(getattr(drift.cls, drift.method, None) if drift.method else drift.cls)
    node, found = None, None
    if where is not None and (tree := source_tree(where.file)[1]) is not None and (node := find_function(tree, where.qualname)) is not None:
        found = undecayed_statement(node)
    mu = drift.coefficient
    expected = ", ".join(f"{(1 - mu ** k) / (1 - mu):.3g}" for k in range(1, len(drift.ratios) + 1))
    yours = ", ".join(f"{r:.3g}" for r in drift.ratios)
    coefficient = _coefficient(drift, node)
    text = (
        f"`{shown}` never decays its velocity: given the same gradient at every update, momentum ({mu:g}) moves each parameter "
        f"{expected} times its first move, levelling off at {1 / (1 - mu):.3g} times, and yours moves it {yours} times, growing by "
        f"the whole first move at every update without bound: the velocity sums every gradient since the start"
    )
    fix = None
    if found is not None:
        step = f"{'-' if found.sign < 0 else '+'} {found.added}"
        fix = f"{found.target} = {coefficient} * {found.target} {step}"
        text += f"; line {found.line} (`{found.statement}`) adds the step to the old velocity without multiplying it by `{coefficient}`"
    else:
        text += f"; multiply the old velocity by `{coefficient}` where the step is added to it"
    line = found.line if found is not None else where.line if where is not None else None
    return rule(NAME).finding(
        text,
        layer=drift.cls.__name__,
        file=where.file if where is not None else None,
        line=line,
        highlight=tuple(range(found.line, found.end_line + 1)) if found is not None else (line,) if line else (),
        pattern="velocity-not-decayed",
        evidence=(("moves ÷ the first move, updates 1 to 4 (momentum: " + expected + ")", yours),),
        **({"fix": fix} if fix else {}),
    )
