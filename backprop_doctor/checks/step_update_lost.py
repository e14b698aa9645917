"""Your training loop's updates never reach the arrays its forward pass reads.

What it finds:
    The training-step replay runs your training loop again from its own state
    for a few dozen steps. When the loss it computes stays exactly the same,
    to the last digit, over every step while the gradients it updates with are
    not zero, the updates are lost: they move a copy of a parameter
    (`w = params[k].copy()` then `w -= lr * grads[k]`), or a function's own
    name for it (`def update(W, dW): W = W - lr * dW`), and the arrays the
    forward pass reads never change. The update and, when the source shows
    it, the copy or the rebinding are named.

Why it matters:
    Nothing is learned, however long the program runs, and no gradient check
    finds anything: every gradient is right. The printed loss repeats the
    same number epoch after epoch.

Example:
    for k in params:
        w = params[k].copy()
        w -= lr * grads[k]

Fix:
    for k in params:
        params[k] -= lr * grads[k]
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.tree import walk

NAME = "step-update-lost"
CODE = "BPD613"
SEVERITY = "error"
STAGE = "training"

_COPIES = frozenset({"copy", "deepcopy", "array", "asarray_chkfinite"})


def run(context: Any) -> Iterator[Finding]:
    source = context.source
    if source is None:
        return
    from backprop_doctor.static.reinit import rebound_each_pass

    for result in context.extras.get("replay") or []:
        if not result.lost:
            continue
        curve = result.curve
        sites = [s for s in result.step.updates if s.file is None] or list(result.step.updates)
        if rebound_each_pass(source.tree, result.step.loop, [s.update.target for s in sites]) is not None:
            continue  # the parameters bound afresh at every pass: step-reinitialised says so, at that statement
        site = sites[0]
        why, line, fix = _explanation(source.path, result.step, site)
        lines = sorted({site.line, *([line] if line else [])})
        yield rule(NAME).finding(
            f"your training loop's loss stays at exactly {curve[0]:.6g} over {len(curve)} replayed steps although its gradients "
            f"are not zero: the update (line {site.line}) {why}; {fix}",
            file=site.file or source.path,
            line=line or site.line,
            highlight=tuple(lines),
            pattern="update-lost",
            evidence=(("replayed", f"loss after each of {len(curve)} steps: {curve[0]:.10g} every time"),),
        )


def _explanation(path: str, step: Any, site: Any) -> tuple[str, int | None, str]:
    """(what the update does, the line that shows it, what to write) for a lost update."""
    tree = source_tree(path)[1]
    target = site.update.target
    statement = next((n for n in walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno == site.line), None) if tree else None
    loop = step.loop
    if loop is not None and target.isidentifier() and statement is not None:
        copied = [
            n for n in walk(loop) if isinstance(n, ast.Assign) and n.lineno < site.line and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name) and n.targets[0].id == target and (original := _copied_from(n.value)) is not None
        ]  # fmt: skip
        if copied:
            made = copied[-1]
            original = _copied_from(made.value)
            return (
                f"moves `{target}`, a copy of `{original}` made at line {made.lineno}, so `{original}` never changes",
                made.lineno,
                f"update `{original}` itself: `{original} {'-=' if site.sign < 0 else '+='} {site.step}`"
                if isinstance(statement, ast.AugAssign) else f"update `{original}` itself, in place",
            )
    function = find_function(tree, site.update.function) if tree is not None and site.update.function else None
    if function is not None and isinstance(statement, ast.Assign) and target in {a.arg for a in function.args.args}:
        return (
            f"binds a new array to `{target}`, `{function.name}`'s own name for the array it was given, so the caller's array "
            "never changes",
            site.line,
            f"write `{target} -= {site.step}` to change the array in place, or return `{target}` and assign what `{function.name}` returns"
            if site.sign < 0 else f"change the array in place (`{target} += ...`), or return it and assign what `{function.name}` returns",
        )
    return (
        "moves arrays the forward pass never reads (a copy, or a name rebound to a new array)",
        None,
        "update the arrays the forward pass computes with, in place",
    )


def _copied_from(value: ast.expr) -> str | None:
    """`params[k]` of `params[k].copy()`, `np.copy(W)`, `np.array(W)`, `copy.deepcopy(W)`; None otherwise."""
    if not isinstance(value, ast.Call):
        return None
    name = ast.unparse(value.func).rpartition(".")[2]
    if name not in _COPIES:
        return None
    if isinstance(value.func, ast.Attribute) and not value.args and name == "copy":
        return ast.unparse(value.func.value)
    if value.args and isinstance(value.args[0], (ast.Name, ast.Attribute, ast.Subscript)):
        return ast.unparse(value.args[0])
    return None
