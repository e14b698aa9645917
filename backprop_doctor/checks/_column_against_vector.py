"""A training step whose gradients are wrong because one of its statements combines a column of N
rows with a vector of N entries (`err = pred - y`, `pred` (N, 1), `y` (N,)): NumPy broadcasts them
to an (N, N) array, every sample against every other, silently. Every loss and gradient computed
from it is wrong, whatever else the replay measures; the statement is the line to fix, and the
vector's shape is the fix (`y.reshape(-1, 1)` where `y` is made)."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule


def column_against_vector_finding(result: Any, source: Any, name: str) -> Finding | None:
    """The finding for the first statement of the step's pass, up to its last update, that subtracts or
    adds a column of N rows and a vector of N entries (N > 1), when the replay found a gradient of the
    step wrong; None otherwise. The shapes are those the names hold after one pass of the step."""
    from backprop_doctor.checks.layer_raised import column_against_vector
    from backprop_doctor.static.script import top_level_binding

    step = result.step
    tree = getattr(source, "tree", None)
    if tree is None or not result.wrong or step.loop is None:
        return None
    after = result.after_one_pass()
    if not after:
        return None
    shapes: dict[str, tuple[int, ...]] = {}
    for stmt in step.prefix:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                text = ast.unparse(node)
                if text not in shapes and (value := _value(after, text)) is not None and isinstance(value, np.ndarray):
                    shapes[text] = tuple(value.shape)
    found = column_against_vector(tree, step, step.update_end_line, shapes, named=True)
    if found is None:
        return None
    line, text, column, vector = found
    rows = shapes[column][0]
    made = top_level_binding(tree, vector) if vector.isidentifier() and not step.function else None  # a method's names are its own
    where = f", once, where `{vector}` is made (line {made[0]})" if made is not None else f", once, where `{vector}` is made"
    wrong = result.wrong
    listed = [f"`{m.name}`" for _, m in wrong]
    names = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + f" and {listed[-1]}"
    plural = len(wrong) > 1
    return rule(name).finding(
        f"the update{'s' if plural else ''} of {names} in your training step do{'' if plural else 'es'} not follow the gradient of your loss "
        f"because line {line} (`{text}`) combines `{column}` of shape {shapes[column]} with `{vector}` of shape {shapes[vector]}, which "
        f"NumPy broadcasts to ({rows}, {rows}), every sample against every other: the loss and every gradient computed from it are "
        f"wrong; make them one shape (`{vector}.reshape(-1, 1)`{where})",
        param=wrong[0][1].name,
        file=source.path,
        line=line,
        highlight=tuple(sorted({line, *([made[0]] if made is not None else []), *(m.site.line for m, _ in wrong if m.site.file is None)})),
        pattern="column-against-vector",
        measured=max(m.error for _, m in wrong),
    )


def _value(names: dict[str, Any], text: str) -> Any:
    """The value of `y` or `self.out` in the pass's names; None when it is not there."""
    first, *rest = text.split(".")
    value = names.get(first)
    for part in rest:
        if value is None:
            return None
        try:
            value = getattr(value, part, None)
        except Exception:  # noqa: BLE001 - a property of the user's raised
            return None
    return value
