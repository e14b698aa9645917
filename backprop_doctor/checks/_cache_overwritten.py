"""A training step whose updates are wrong because a statement between its loss and its backward runs
the forward pass again on other inputs (a held-out check): the layers' cached inputs are the other
pass's when the backward reads them. `replay.cache_overwritten` confirms the statement (the updates
follow the loss once it is left out); this words it, at that statement."""

from __future__ import annotations

import ast
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule


def _cached(tree: ast.Module | None) -> list[str]:
    """`self.inp`, `self.mask`: attributes a class's method (not its constructor) stores and another of
    its methods reads, what a layer keeps from its forward pass for its backward."""
    if tree is None:
        return []
    found: list[str] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        stored: dict[str, set[str]] = {}
        read: dict[str, set[str]] = {}
        moved: set[str] = set()
        for method in (n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            if method.name == "__init__" or not method.args.args:
                continue
            me = method.args.args[0].arg

            def mine(node: ast.AST) -> str | None:
                return node.attr if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == me else None

            for node in ast.walk(method):
                if isinstance(node, ast.AugAssign) and mine(node.target):
                    moved.add(mine(node.target))  # `self.W -= lr * dW`: a parameter, not what the forward keeps
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        for t in ast.walk(target):
                            if mine(t) and isinstance(t.ctx, ast.Store):
                                if any(mine(r) == mine(t) for r in ast.walk(node.value)):
                                    moved.add(mine(t))  # `self.W = self.W - lr * dW`
                                stored.setdefault(mine(t), set()).add(method.name)
                elif mine(node) and isinstance(node.ctx, ast.Load):
                    read.setdefault(mine(node), set()).add(method.name)
        for attr, writers in stored.items():
            if attr not in moved and read.get(attr, set()) - writers and f"self.{attr}" not in found:
                found.append(f"self.{attr}")
    return found


def cache_overwritten_finding(result: Any, source: Any, name: str) -> Finding | None:
    """The finding at the statement `result.overwritten` names; None when the replay confirmed none."""
    overwritten = getattr(result, "overwritten", None)
    if overwritten is None or not result.wrong:
        return None
    wrong = result.wrong
    listed = [f"`{m.name}`" for _, m in wrong]
    names = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + f" and {listed[-1]}"
    plural = len(wrong) > 1
    loss = result.loss
    cached = _cached(getattr(source, "tree", None))
    kept = f" (`{'`, `'.join(cached[:4])}`)" if cached else ""
    called = " and ".join(f"`{c}`" for c in overwritten.calls[:2])
    updates = sorted({m.site.line for m, _ in wrong if m.site.file is None})
    return rule(name).finding(
        f"line {overwritten.line} (`{overwritten.text}`) runs your forward pass again ({called}, on other inputs) between "
        f"the training forward pass of your loss `{loss.name}` (line {overwritten.loss_line}) and its backward: what the layers "
        f"keep from the forward pass{kept} is that second pass's when the backward reads it, so the update{'s' if plural else ''} of {names} "
        f"pair{'' if plural else 's'} the gradient of `{loss.name}` with the other inputs and follow{'' if plural else 's'} "
        f"the gradient of no loss (replayed without line {overwritten.line}, every update follows it); move that line after "
        "the updates, or before the training forward pass",
        param=wrong[0][1].name,
        file=source.path,
        line=overwritten.line,
        highlight=tuple(sorted({overwritten.line, overwritten.loss_line, *updates})),
        pattern="cache-overwritten",
        measured=max(m.error for _, m in wrong),
    )


__all__ = ["cache_overwritten_finding"]
