"""Backpropagation through time cut short on purpose.

Truncated BPTT walks back only `bptt_truncate` steps from each output
(`for step in np.arange(max(0, t - self.bptt_truncate), t + 1)[::-1]:`): its gradients are
an approximation by design, close to the loss's but not equal to it. `truncated_at` finds
such a loop around a line of the backward pass, so a gradient that differs because of it
is named as a truncation, not as a mistake.
"""

from __future__ import annotations

import ast
import re

from backprop_doctor.static.tree import walk

_TRUNCATE = re.compile(r"(?i)trunc")


def truncated_at(tree: ast.Module | None, name: str) -> tuple[str, int] | None:
    """(the truncation's name as written, the loop's line) for a loop that adds to the gradient
    `name` (`dLdW += ...`, `dLdU[:, x[s]] += ...`) and whose range is bounded by a truncation length
    (`max(0, t - self.bptt_truncate)`), else None."""
    if tree is None or not name.isidentifier():
        return None
    for loop in walk(tree):
        if not isinstance(loop, ast.For):
            continue
        named = [n for n in walk(loop.iter) if isinstance(n, (ast.Name, ast.Attribute)) and _TRUNCATE.search(n.attr if isinstance(n, ast.Attribute) else n.id)]
        if named and any(_adds_to(node, name) for node in walk(loop)):
            return ast.unparse(named[0]), loop.lineno
    return None


def _adds_to(node: ast.AST, name: str) -> bool:
    if not isinstance(node, ast.AugAssign):
        return False
    target = node.target
    while isinstance(target, ast.Subscript):
        target = target.value
    return isinstance(target, ast.Name) and target.id == name
