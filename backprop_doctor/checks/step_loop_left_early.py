"""A `return` or `break` inside the training loop ends it after its first pass.

What it finds:
    A loop whose body updates the parameters (directly, or in a loop
    inside it) and holds a `return` or `break` of its own after that update,
    not under any condition: indented one level too deep, it ends the loop
    the first time round, and the training is one step.

Why it matters:
    The program runs without an error and prints a loss, but only one update
    ever happens (one minibatch of the first epoch): the loss hardly falls,
    and no gradient check finds anything wrong, since every gradient is right.

Example:
    for epoch in range(epochs):
        for start in range(0, n, batch):
            ...
            W -= lr * dW
            return W

Fix:
    for epoch in range(epochs):
        for start in range(0, n, batch):
            ...
            W -= lr * dW
    return W
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.updates import parameter_updates

NAME = "step-loop-left-early"
CODE = "BPD624"
SEVERITY = "error"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None or source.tree is None:
        return
    updates = sorted({u.line for u in parameter_updates(source.tree, text=source.text)})
    if not updates:
        return
    seen: set[int] = set()
    for loop in (n for n in ast.walk(source.tree) if isinstance(n, (ast.For, ast.While))):
        inside = [line for line in updates if loop.lineno < line <= (loop.end_lineno or loop.lineno)]
        if not inside:
            continue
        if any(isinstance(n, ast.Continue) for n in ast.walk(loop)):
            continue  # passes it skips until one it acts on (`if gradient == 0: continue`): a search, left when found
        for stmt in loop.body:  # the loop's own statements, not those of a block inside it
            if isinstance(stmt, (ast.Return, ast.Break)) and stmt.lineno > inside[0] and stmt.lineno not in seen:
                seen.add(stmt.lineno)
                word = "return" if isinstance(stmt, ast.Return) else "break"
                kind = "for" if isinstance(loop, ast.For) else "while"
                yield rule(NAME).finding(
                    f"the `{word}` at line {stmt.lineno} is inside the training loop at line {loop.lineno} (the `{kind}` that updates at line "
                    f"{inside[0]}), with no condition: it ends the loop the first time round, so training is a single update; "
                    f"indent it {'to the level of the loop' if word == 'return' else 'under the condition that should stop training'}, after the loop",
                    file=source.path,
                    line=stmt.lineno,
                    highlight=tuple(sorted({stmt.lineno, loop.lineno, inside[0]})),
                    pattern="loop-left-early",
                )
