"""A training pass that clips its weights where it meant to clip their gradients.

    dW1 = X.T @ dz1                      # gradients computed from W1 ...
    for t in (W1, b1, W2, b2):           # ... then the weights clipped in place
        np.clip(t, -CLIP, CLIP, out=t)
    W1 -= LR * dW1                       # and stepped with the raw gradient

`clipped_weights` reads one pass of a training loop (the statements before its first update, and the
updates' parameters and gradients): a clip written into parameters the pass updates (`np.clip(t, lo, hi,
out=t)` over a tuple of them, `W = np.clip(W, lo, hi)`, `W[...] = np.clip(W, ...)`), after the statements
that compute their gradients and before the updates, in a pass that clips none of those gradients.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class ClippedWeights:
    line: int  # the statement that clips (the `for` over the weights, or the clip itself)
    end_line: int
    weights: tuple[str, ...]  # the parameters it clips, as written (`W1`, `self.W`)
    gradients: tuple[str, ...]  # their gradients, as the updates read them (`dW1`)
    bounds: str  # the bounds as written (`-CLIP, CLIP`)


def _clip_call(node: ast.AST) -> ast.Call | None:
    """`np.clip(...)` / `numpy.clip(...)` / `x.clip(...)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "clip":
        return node
    return None


def _written(call: ast.Call) -> str | None:
    """The array `np.clip(t, lo, hi, out=t)` (or `np.clip(t, lo, hi, t)`) writes its result into: its first argument, when the same."""
    if not call.args or not isinstance(call.func, ast.Attribute) or not isinstance(call.func.value, ast.Name) or call.func.value.id not in ("np", "numpy"):
        return None
    first = ast.unparse(call.args[0])
    out = next((k.value for k in call.keywords if k.arg == "out"), call.args[3] if len(call.args) > 3 else None)
    return first if out is not None and ast.unparse(out) == first else None


def _clipped_into(stmt: ast.stmt) -> tuple[list[str], str] | None:
    """The names a statement clips in place, with the bounds as written."""
    names: list[str] = []
    bounds = ""
    if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name) and isinstance(stmt.iter, (ast.Tuple, ast.List)):
        variable = stmt.target.id
        for inner in stmt.body:
            found = _clipped_into(inner)
            if found is not None and found[0] == [variable]:
                return [ast.unparse(e) for e in stmt.iter.elts], found[1]
        return None
    if isinstance(stmt, ast.Expr) and (call := _clip_call(stmt.value)) is not None and (into := _written(call)) is not None:
        names, bounds = [into], ", ".join(ast.unparse(a) for a in call.args[1:3])
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and (call := _clip_call(stmt.value)) is not None and call.args:
        target = stmt.targets[0]
        held = target.value if isinstance(target, ast.Subscript) and isinstance(target.slice, (ast.Slice, ast.Constant)) else target
        if ast.unparse(held) == ast.unparse(call.args[0]) and isinstance(held, (ast.Name, ast.Attribute)):
            names, bounds = [ast.unparse(held)], ", ".join(ast.unparse(a) for a in call.args[1:3])
    return (names, bounds) if names else None


def _assigned_lines(prefix: Sequence[ast.stmt], name: str) -> list[int]:
    return [
        node.lineno for stmt in prefix for node in walk(stmt) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target]) if ast.unparse(target) == name
    ]  # fmt: skip


def clipped_weights(prefix: Sequence[ast.stmt], updated: Sequence[tuple[str, str]]) -> ClippedWeights | None:
    """`updated`: (parameter, gradient) for each update of the pass, as written (`("W1", "dW1")`)."""
    gradients = dict(updated)
    clipped_anywhere = {name for stmt in prefix for node in walk(stmt) if isinstance(node, ast.stmt) for name in (_clipped_into(node) or ([], ""))[0]}
    clipped_anywhere |= {
        ast.unparse(call.args[0]) for stmt in prefix for node in walk(stmt) if (call := _clip_call(node)) is not None and call.args
    }  # `dW = np.clip(dW, -5, 5)` or any clip of a gradient, written anywhere in the pass
    for stmt in prefix:
        found = _clipped_into(stmt)
        if found is None:
            continue
        names, bounds = found
        weights = [n for n in names if n in gradients]
        if not weights or len(weights) != len(names):
            continue  # it clips something the pass does not update as a parameter
        grads = [gradients[n] for n in weights]
        if any(g in clipped_anywhere for g in grads):
            continue  # the gradients are clipped too: a weight constraint beside gradient clipping
        made = [line for g in grads for line in _assigned_lines(prefix, g)]
        if not made or max(made) > stmt.lineno:
            continue  # a gradient computed after the clip is taken at the clipped weights
        return ClippedWeights(stmt.lineno, stmt.end_lineno or stmt.lineno, tuple(weights), tuple(grads), bounds)
    return None


__all__ = ["ClippedWeights", "clipped_weights"]
