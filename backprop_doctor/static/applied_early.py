"""An update that applies a gradient the pass computes only after it.

    for it in range(steps):
        loss, cache = forward(params, xb, yb)
        sgd(params, grads, lr)            # `grads` of the pass before
        grads = backward(params, cache)

The pass's forward runs before its update and its backward after, so the update moves the
parameters by the gradient the previous pass left in `grads` (the previous batch's, or the zeros it
started at), and the backward then works from a cache made before the update with weights already
moved. `applied_early` reads that from the loop's statements: a name the update reads that the pass
sets only after the update, from values the pass computed before it. A pass that starts with its
update and then computes forward and backward for the next (`W -= lr * g` ... `g = grad(W)`) reads
nothing computed before the update, and is left alone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class AppliedEarly:
    name: str  # the gradient the update reads: `grads`, `dW1`
    update: int  # the line of the update statement that reads it
    computed: int  # the line after it that sets it
    forward: int  # the line before the update whose value that computation reads (`loss, cache = forward(...)`)
    forward_name: str  # the value it reads: `cache`


def _stored(stmt: ast.stmt) -> set[str]:
    return {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _loaded(stmt: ast.stmt) -> set[str]:
    return {n.id for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def applied_early(body: list[ast.stmt], first: int, last: int) -> AppliedEarly | None:
    """In one pass (`body`, the loop's statements), the update statements at lines `first` to `last`:
    the first name they read (and do not set themselves) that no statement before them in the pass sets
    and a statement after them does, that statement computed from a name the pass set before the update."""
    if any(isinstance(s, (ast.For, ast.While, ast.If, ast.With, ast.Try)) and s.lineno <= first <= (s.end_lineno or s.lineno) for s in body):
        return None  # the update inside a nested block of the pass: its order is not the pass's
    before = [s for s in body if (s.end_lineno or s.lineno) < first]
    update = [s for s in body if first <= s.lineno <= last]
    after = [s for s in body if s.lineno > last]
    if not before or not update or not after:
        return None
    set_before = {name: s.lineno for s in before for name in _stored(s)}
    moved = set().union(*(_stored(s) for s in update))
    for stmt in update:
        for name in sorted(_loaded(stmt) - moved - set(set_before)):
            setting = next((s for s in after if name in _stored(s)), None)
            if setting is None:
                continue
            read = _reads_back(after, setting, set_before)
            if read is not None:
                return AppliedEarly(name, stmt.lineno, setting.lineno, set_before[read], read)
    return None


def _reads_back(after: list[ast.stmt], setting: ast.stmt, set_before: dict[str, int]) -> str | None:
    """A name set before the update that `setting` reads, itself or through the statements after the
    update (and before it) it is computed from."""
    needed = _loaded(setting)
    for stmt in reversed([s for s in after if s.lineno < setting.lineno]):
        if _stored(stmt) & needed:
            needed |= _loaded(stmt)
    return next((name for name in sorted(needed, key=lambda n: -set_before.get(n, 0)) if name in set_before), None)
