"""A momentum optimizer keeps no velocity from one update to the next.

What it finds:
    An optimizer named for momentum (a `Momentum` class with `update(params,
    grads)`, deeplearning.ai's `update_parameters_with_momentum(parameters,
    grads, v, beta, learning_rate)`, cs231n's `sgd_momentum(w, dw, config)`)
    is given the same gradient at four updates in a row, on fresh arrays.
    Momentum moves further at each of them (lr·g, then lr·g·(1 + μ), ...); one
    whose moves stay the same keeps no velocity: it computes the velocity into
    a local that is lost when the update returns, stores back the velocity it
    read instead of the new one, or moves the parameters by the gradient itself.

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
from dataclasses import dataclass
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
        if not drift.undecayed:  # a velocity kept but never decayed: `momentum-never-decays`
            yield _finding(drift)
    yield from _layer_optimizers(context)


def _layer_optimizers(context: Any) -> Iterator[Finding]:
    """The program's own optimizer object with a momentum, stepping one layer at a time
    (`optimizer.update_params(dense1)`), run on copies with a constant gradient (`replay.layer_optimizer`):
    moves that never grow keep no velocity, often because it is stored under a misspelled name."""
    from backprop_doctor.replay.layer_optimizer import layer_steps

    source = getattr(context, "source", None)
    for result in context.extras.get("replay") or []:
        if getattr(result, "driver", None) or getattr(result, "standin", None):
            continue
        lost = [s for s in layer_steps(result) if s.not_kept]
        if not lost:
            continue
        first = lost[0]
        names = ", ".join(f"`{s.parameter}`" for s in lost)
        if first.misspelled is not None:
            written, read = first.misspelled
            cause = (
                f"line {first.line} (`{first.statement}`) stores the new velocity in `{written}`, which nothing reads, while the update "
                f"reads `{read}`: spell it `{read}`"
            )
            pattern = "velocity-misspelled"
        else:
            where = f" (line {first.line}, `{first.statement}`)" if first.line else ""
            cause = f"the velocity it computes{where} is not kept for the next update: store it where the next update reads it"
            pattern = "velocity-lost"
        yield rule(NAME).finding(
            f"`{first.optimizer}` keeps no velocity for {names}: given the same gradient at every update, momentum "
            f"({first.coefficient:g}) moves each parameter further each time, and yours moves {'them' if len(lost) > 1 else 'it'} the same "
            f"step every time, plain gradient descent; {cause}",
            layer=first.optimizer.partition(".")[0],
            file=source.path if source is not None else None,
            line=first.line,
            highlight=(first.line,) if first.line else (),
            pattern=pattern,
            evidence=(("moves ÷ the first move, updates 1 to 4 (momentum: growing)", ", ".join(f"{r:.4g}" for r in first.ratios)),),
        )


def _finding(drift: Any) -> Finding:
    shown = f"{drift.cls.__name__}.{drift.method}" if drift.method else drift.cls.__name__
    where = definition(getattr(drift.cls, drift.method, None) if drift.method else drift.cls)
    line, local, stale = (where.line if where is not None else None), None, None
    lines: list[str] = []
    if where is not None and (tree := (read := source_tree(where.file))[1]) is not None and (node := find_function(tree, where.qualname)) is not None:
        lines, stale = read[0], _old_velocity_stored(node)
        local = _velocity_lost(node) if stale is None else None
        line = stale.line if stale is not None else local[0] if local is not None else _gradient_step(node) or line
    if stale is not None:
        cause = (
            f"line {stale.line} (`{_as_written(lines, stale)}`) stores back the velocity as it was read (`{stale.old}`, line {stale.read_at}), "
            f"not the new one computed into `{stale.new}` at line {stale.new_at}, so every update starts again from the first velocity: "
            f"store `{stale.new}` there"
        )
    else:
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
        highlight=tuple(sorted({stale.read_at, stale.new_at, stale.line})) if stale is not None else (line,) if line else (),
        pattern="old-velocity-stored" if stale is not None else "velocity-lost" if local is not None else "gradient-step",
        evidence=(("moves ÷ the first move, updates 1 to 4 (momentum: growing)", shown_ratios),),
    )


def _as_written(lines: list[str], stale: "OldVelocityStored") -> str:
    """The store as the user wrote it (their quotes), when it is one line of the file."""
    text = lines[stale.line - 1].strip() if 0 < stale.line <= len(lines) else ""
    try:
        return text if ast.unparse(ast.parse(text)) == stale.statement else stale.statement
    except SyntaxError:  # a statement continued on the next line
        return stale.statement


_VELOCITY_NAMES = ("v", "velocity", "vel", "velocities", "m", "momentum_buffer")


@dataclass(frozen=True)
class OldVelocityStored:
    """`v = config.get("velocity", ...)` (line 4), `next_v = mu * v - lr * dw` (line 5), then
    `config["velocity"] = v` (line 7): the store hands the next update the velocity it was given."""

    line: int
    statement: str  # 'config["velocity"] = v'
    old: str  # "v"
    read_at: int
    new: str  # "next_v"
    new_at: int


def _velocity_slot(node: ast.expr) -> str | None:
    """The velocity a value is read from or a store writes to: `config["velocity"]` (or
    `config.get("velocity", ...)`) by its key, `self.v[key]` and `self.velocity` by the array."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        node = ast.Subscript(value=node.func.value, slice=node.args[0], ctx=ast.Load())
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return f"{ast.unparse(node.value)}[{key.value!r}]" if key.value in _VELOCITY_NAMES else None
        return ast.unparse(node.value) if ast.unparse(node.value).rpartition(".")[2] in _VELOCITY_NAMES else None
    if isinstance(node, ast.Attribute) and node.attr in _VELOCITY_NAMES:
        return ast.unparse(node)
    return None


def _old_velocity_stored(node: Any) -> OldVelocityStored | None:
    """A velocity read into a local (`v`), a new one computed from it into another local (`next_v`),
    and the first local, never assigned again, stored back where it was read from, while the new one
    is stored nowhere."""
    assigns = sorted((n for n in ast.walk(node) if isinstance(n, ast.Assign) and len(n.targets) == 1), key=lambda n: n.lineno)
    for read in assigns:
        if not isinstance(read.targets[0], ast.Name) or (slot := _velocity_slot(read.value)) is None:
            continue
        old = read.targets[0].id
        later = [n for n in assigns if n.lineno > read.lineno]
        if any(isinstance(n.targets[0], ast.Name) and n.targets[0].id == old for n in later):
            continue  # `v = mu * v - lr * dw`: the local is the new velocity
        for store in later:
            if not (isinstance(store.value, ast.Name) and store.value.id == old and _velocity_slot(store.targets[0]) == slot):
                continue
            made = [n for n in later if n.lineno < store.lineno and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.BinOp)
                    and old in {m.id for m in ast.walk(n.value) if isinstance(m, ast.Name)} and not _stored_whole(node, n.targets[0].id)]
            if made:
                return OldVelocityStored(store.lineno, ast.unparse(store), old, read.lineno, made[0].targets[0].id, made[0].lineno)
    return None


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
