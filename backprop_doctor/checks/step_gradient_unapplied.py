"""A training pass computes a parameter's gradient and never applies it.

What it finds:
    The training-step replay knows which arrays the program's updates move.
    A statement of the pass that binds a gradient named after an array the
    pass reads (`dW1` of `W1`, `grad_W2`, `d_w`), an array of numbers held
    before the loop (not the data: none of its axes has the batch's length),
    which no update of the file moves and the pass does not bind itself (a
    recurrence's `h_next` is no weight), is a gradient left out of the update:
    often a loop over `zip([b1, b2], [db1, db2])` that lists only some of the
    parameters, or an update line forgotten.

Why it matters:
    That array keeps its initial values: the network trains with a part of
    its weights frozen at random, and the loss stalls far above where it
    could go. Every gradient can be right; only the update is incomplete.

Example:
    for param, dparam in zip([b1, b2], [db1, db2]):
        param += -step_size * dparam

Fix:
    for param, dparam in zip([W1, b1, W2, b2], [dW1, db1, dW2, db2]):
        param += -step_size * dparam
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-gradient-unapplied"
CODE = "BPD634"
SEVERITY = "error"
STAGE = "training"

_GRADIENT = re.compile(r"(?:d_?|grad_?|g_)(?P<stem>[A-Za-z]\w*)|(?P<stem2>[A-Za-z]\w*?)_?grad")


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    for result in context.extras.get("replay") or []:
        found = unapplied(result, source)
        if not found:
            continue
        names = ", ".join(f"`{g}` (line {line})" for g, _, line in found)
        params = ", ".join(f"`{p}`" for _, p, _ in found)
        updates = sorted({m.site.line for m, _ in result.parameters if m.site.file is None})
        where = f" (line{'s' if len(updates) > 1 else ''} {', '.join(map(str, updates))})" if updates else ""
        moved = ", ".join(f"`{m.name}`" for _, m in result.parameters)
        yield rule(NAME).finding(
            f"your training step computes {names}, the gradient{'s' if len(found) > 1 else ''} of {params}, which its forward pass "
            f"reads, but its updates{where} move only {moved}: {params} keep{'s' if len(found) == 1 else ''} "
            f"the values {'it' if len(found) == 1 else 'they'} started with, so the network trains with "
            f"{'that array' if len(found) == 1 else 'those arrays'} frozen at random; update {'it' if len(found) == 1 else 'them'} too",
            file=source.path,
            line=updates[0] if updates else found[0][2],
            highlight=tuple(sorted({*updates, *(line for _, _, line in found)})),
            param=found[0][1],
            pattern="gradient-never-applied",
        )


def unapplied(result: Any, source: Any) -> list[tuple[str, str, int]]:
    """(gradient, parameter, line) of each gradient the replayed pass binds whose parameter no update moves."""
    from backprop_doctor.static.steps import reads
    from backprop_doctor.static.updates import parameter_updates

    step, runner = result.step, result.runner
    if step is None or runner is None or not result.parameters or result.wrong or result.driver or result.standin:
        return []
    values = getattr(runner.state, "values", {}) or {}
    moved = {str(m.path[0][1]) for m, _ in result.parameters if m.path}
    targets = {re.match(r"[\w.]*", u.target).group() for u in parameter_updates(source.tree)}
    written = _written_from(source.tree)  # `c1 -= step * dc1`, which the update finder takes for no update
    read = set().union(*(reads(s) for s in step.prefix)) if step.prefix else set()
    # the samples' count: the batch, or the longest first axis of the data the pass reads (not `X`'s features)
    firsts = [int(np.shape(v)[0]) for k, v in values.items() if k in read and _data_like(k) and np.ndim(v) >= 1]
    sizes = {max(firsts)} if firsts else set(result.batch_sizes)
    # a parameter is only read by the pass: what the pass binds itself (`h`, `h_next` of a recurrence) is no weight
    made = {n.id for s in step.prefix for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    found = []
    for statement in step.prefix:
        if not isinstance(statement, (ast.Assign, ast.AugAssign)):
            continue
        bound = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in bound:
            if not isinstance(target, ast.Name):
                continue
            match = _GRADIENT.fullmatch(target.id)
            stem = (match.group("stem") or match.group("stem2")) if match else None
            if not stem or stem in moved or stem in targets or (stem, target.id) in written or stem not in read or stem in made:
                continue
            value = values.get(stem)
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or value.size < 2 or any(n in sizes for n in value.shape):
                continue
            if all(stem != p for _, p, _ in found):
                found.append((target.id, stem, statement.lineno))
    return found


def _written_from(tree: ast.AST) -> set[tuple[str, str]]:
    """(array, name read) for each statement that steps an array by what it reads: `c1 -= step * dc1`,
    `c1 = c1 - step * dc1`. An update under names no finder knows (no usual array, rate or gradient
    name) still applies the gradient it reads."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Sub, ast.Add)) and isinstance(node.target, ast.Name):
            array, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, (ast.Sub, ast.Add))
            and isinstance(node.value.left, ast.Name) and node.value.left.id == node.targets[0].id
        ):  # fmt: skip
            array, value = node.targets[0].id, node.value.right
        else:
            continue
        found |= {(array, n.id) for n in ast.walk(value) if isinstance(n, ast.Name) and n.id != array}
    return found


def _data_like(name: str) -> bool:
    return bool(re.fullmatch(r"(?i)x\w*|y\w*|t|data\w*|inputs?|labels?|targets?|features?", name))
