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
            yield from _copies_moved(source.path, result)
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
    function = find_function(tree, site.update.function) if tree is not None and site.update.function else None
    scopes = [s for s in (function if site.file is None else None, loop) if s is not None]
    if scopes and target.isidentifier() and statement is not None:
        made = next((m for s in scopes if (m := _copy_made(s, target, site.line)) is not None), None)
        if made is not None:
            original = _copied_from(made.value)
            return (
                f"moves `{target}`, a copy of `{original}` made at line {made.lineno}, so `{original}` never changes",
                made.lineno,
                f"update `{original}` itself: `{original} {'-=' if site.sign < 0 else '+='} {site.step}`"
                if isinstance(statement, ast.AugAssign) else f"update `{original}` itself, in place",
            )
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


def _copy_made(scope: ast.AST, target: str, line: int) -> ast.Assign | None:
    """The last statement of `scope` before `line` that binds `target` to a copy (`W = layer.W.copy()`)."""
    copied = [
        n for n in walk(scope) if isinstance(n, ast.Assign) and n.lineno < line and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name) and n.targets[0].id == target and _copied_from(n.value) is not None
    ]  # fmt: skip
    return max(copied, key=lambda n: n.lineno, default=None)


def _copies_moved(path: str, result: Any) -> Iterator[Finding]:
    """Updates of a step whose loss still moves that ran on an array the loop does not hold: a copy of a
    parameter made just before (`W = layer.W.copy(); W -= lr * layer.dW`) that nothing reads after the
    update, so that parameter never changes while the others train."""
    import numpy as np

    capture = getattr(result.runner, "capture", None)
    if capture is None or result.still or result.symmetric:
        return
    held = {(m.site.file, m.site.line) for m, _ in result.parameters}
    named: set[tuple[str | None, int]] = set()
    for moved in capture.moved:
        site = moved.site
        key = (site.file, site.line)
        if key in held or key in named or not site.update.target.isidentifier():
            continue  # (a module-level loop's name gets a path of its own: `(("name", "w"),)`, measured nowhere)
        if not isinstance(moved.value, np.ndarray) or moved.value.size < 2 or not np.any(np.asarray(moved.gradient) != 0):
            continue
        found = _unread_copy(site.file or path, result.step, site)
        if found is None:
            continue
        named.add(key)
        made, original = found
        target = site.update.target
        trained = sorted({m.path and _describe(m.path) for m, _ in result.parameters} - {None})
        others = f"; only {', '.join(f'`{t}`' for t in trained[:4])}{' and the rest' if len(trained) > 4 else ''} train" if trained else ""
        aug = site.sign < 0
        fix = f"{original} -= {site.step}" if aug else f"{original} += {site.step}"
        yield rule(NAME).finding(
            f"the update (line {site.line}) moves `{target}`, a copy of `{original}` made at line {made.lineno}, and nothing reads "
            f"`{target}` after it, so `{original}` never changes{others}: update `{original}` itself: `{fix}`",
            file=site.file or path,
            line=made.lineno,
            highlight=tuple(sorted({made.lineno, site.line})),
            fix=fix,
            param=original,
            pattern="update-lost-to-copy",
            evidence=(("replayed", f"the update at line {site.line} ran on an array your training loop does not hold"),),
        )


def _describe(path: Any) -> str | None:
    from backprop_doctor.replay.state import describe

    try:
        return describe(path)
    except Exception:  # noqa: BLE001 - an unusual path: no name to give
        return None


def _unread_copy(path: str, step: Any, site: Any) -> tuple[ast.Assign, str] | None:
    """(the copy statement, what it copies) when the update's target is bound to a copy just before it in
    the same function (or loop) and no statement but the update reads that name."""
    tree = source_tree(path)[1]
    if tree is None:
        return None
    target = site.update.target
    function = find_function(tree, site.update.function) if site.update.function else None
    scope = function if function is not None else step.loop
    if scope is None:
        return None
    statement = next((n for n in walk(scope) if isinstance(n, (ast.Assign, ast.AugAssign)) and n.lineno == site.line), None)
    made = _copy_made(scope, target, site.line)
    if statement is None or made is None:
        return None
    if function is not None and any(isinstance(n, (ast.Global, ast.Nonlocal)) and target in n.names for n in walk(function)):
        return None
    inside = {id(n) for n in walk(statement)}
    reach = scope if function is not None else tree  # a module's name may be read by any function of it
    if any(isinstance(n, ast.Name) and n.id == target and isinstance(n.ctx, ast.Load) and id(n) not in inside for n in walk(reach)):
        return None  # the copy is read on (assigned back, returned, passed on): the update may well reach the parameter
    if function is not None and any(isinstance(n, (ast.FunctionDef, ast.Lambda)) and n is not function for n in walk(function)):
        return None  # a closure may read it
    original = _copied_from(made.value)
    return (made, original) if original is not None else None
