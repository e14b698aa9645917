"""The fixed positions a network's loss reads from its first input: `contexts[:, 0]` and `contexts[:, 1]`.

A word model that scores one centre word against the words around it (skip-gram's
`forward(contexts, target)`: `loss_layer1.forward(s, contexts[:, 0])`, `loss_layer2.forward(s,
contexts[:, 1])`) sums one loss per position over the same scores. When the positions hold different
words the sum has a floor above 0 (two ln 2 for two different contexts), so a tiny batch of such
samples is never fitted, however right the network. `training.probe` reads these positions and fits
the tiny batch again with the same value at every one of them (`Probe.overfit_agreeing`). Nothing here
runs user code: it walks the tree of the method it is handed.
"""

from __future__ import annotations

import ast


def constant_positions(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, ...]:
    """The constant indices `k` of `x[:, k]` the function reads, for its first argument after `self`;
    () unless there are at least two."""
    arguments = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if arguments and arguments[0] in ("self", "cls"):
        arguments = arguments[1:]
    if not arguments:
        return ()
    first = arguments[0]
    found: set[int] = set()
    for node in ast.walk(function):
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == first):
            continue
        index = node.slice
        if not (isinstance(index, ast.Tuple) and len(index.elts) == 2):
            continue
        whole, at = index.elts
        if not (isinstance(whole, ast.Slice) and whole.lower is None and whole.upper is None and whole.step is None):
            continue
        if isinstance(at, ast.Constant) and isinstance(at.value, int) and not isinstance(at.value, bool):
            found.add(at.value)
    return tuple(sorted(found)) if len(found) >= 2 else ()
