"""A momentum optimizer keeps no velocity from one update to the next.

What it finds:
    An optimizer named for momentum (a `Momentum` class with `update(params,
    grads)`, deeplearning.ai's `update_parameters_with_momentum(parameters,
    grads, v, beta, learning_rate)`) is given the same gradient at four updates
    in a row, on fresh arrays. Momentum moves further at each of them (lr·g,
    then lr·g·(1 + μ), ...); one whose moves stay the same keeps no velocity:
    it computes the velocity into a local that is lost when the update returns,
    or moves the parameters by the gradient itself.

Why it matters:
    The optimizer is plain gradient descent under another name. Training still
    works, so nothing looks wrong, but the speed-up momentum is chosen for, and
    every comparison made with it, is not there.

Example:
    for key in params.keys():
        v = self.momentum * self.v[key] - self.lr * grads[key]
        params[key] += v

Fix:
    for key in params.keys():
        self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
        params[key] += self.v[key]
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

NAME = "momentum-not-kept"
CODE = "BPD209"
SEVERITY = "warning"
STAGE = "contract"


def run(context: Any) -> Iterator[Finding]:
    for drift in context.extras.get("momentum_drift", []):
        yield _finding(drift)


def _finding(drift: Any) -> Finding:
    shown = f"{drift.cls.__name__}.{drift.method}" if drift.method else drift.cls.__name__
    where = definition(getattr(drift.cls, drift.method, None) if drift.method else drift.cls)
    line, local = (where.line if where is not None else None), None
    if where is not None and (tree := source_tree(where.file)[1]) is not None and (node := find_function(tree, where.qualname)) is not None:
        local = _velocity_lost(node)
        line = local[0] if local is not None else _gradient_step(node) or line
    cause = (
        f"the velocity it computes goes into the local `{local[1]}` (line {local[0]}), which is lost when the update returns: "
        f"store it where the next update reads it" if local is not None
        else "its parameters move by the gradient, not by the velocity: move them by the velocity"
    )
    shown_ratios = ", ".join(f"{r:.4g}" for r in drift.ratios)
    return rule(NAME).finding(
        f"`{shown}` keeps no velocity: given the same gradient at every update, momentum ({drift.coefficient:g}) moves each "
        f"parameter further each time, and yours moves it the same step every time, plain gradient descent; {cause}",
        layer=drift.cls.__name__,
        file=where.file if where is not None else None,
        line=line,
        highlight=(line,) if line else (),
        pattern="velocity-lost" if local is not None else "gradient-step",
        evidence=(("moves ÷ the first move, updates 1 to 4 (momentum: growing)", shown_ratios),),
    )


def _velocity_lost(node: Any) -> tuple[int, str] | None:
    """(line, name) of `v = self.momentum * self.v[key] - ...`: a local computed from the stored
    velocity, where the store itself is never written again."""
    # written by a statement that computes with something (not `self.v[key] = np.zeros_like(val)`, its start)
    stored = {ast.unparse(t.value) for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign)) and _computes(n.value)
              for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Subscript)}
    for stmt in sorted((n for n in ast.walk(node) if isinstance(n, ast.Assign)), key=lambda n: n.lineno):
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            continue
        read = {ast.unparse(s.value) for s in ast.walk(stmt.value) if isinstance(s, ast.Subscript)}
        velocities = {r for r in read if r.rpartition(".")[2] in ("v", "velocity", "vel", "velocities", "m")}
        if velocities and not velocities & stored and not velocities & _stored_whole(node, stmt.targets[0].id):
            return stmt.lineno, stmt.targets[0].id
    return None


def _stored_whole(node: Any, name: str) -> set[str]:
    """The stores a local is written back to whole (`self.v[key] = velocity`): that velocity is kept."""
    return {ast.unparse(t.value) for n in ast.walk(node) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id == name
            for t in n.targets if isinstance(t, ast.Subscript)}


def _computes(value: ast.expr) -> bool:
    """A value made from a subscripted array or by arithmetic, not a fresh array of zeros."""
    return any(isinstance(n, (ast.BinOp, ast.Subscript)) for n in ast.walk(value))


def _gradient_step(node: Any) -> int | None:
    """The line that moves a parameter by a gradient (`parameters["W1"] - learning_rate * grads["dW1"]`)."""
    for stmt in sorted((n for n in ast.walk(node) if isinstance(n, (ast.Assign, ast.AugAssign))), key=lambda n: n.lineno):
        if any(isinstance(s, ast.Subscript) and isinstance(s.value, ast.Name) and s.value.id.lower() in ("grads", "gradients") for s in ast.walk(stmt.value)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id.lower() in ("parameters", "params") for t in targets):
                return stmt.lineno
    return None
