"""Targets smoothed by the program itself: a loss with a floor above 0 that no fit goes below.

    target = np.full(logp.shape, SMOOTH / CLASSES)
    target[np.arange(len(labels)), labels] += 1.0 - SMOOTH
    loss = -(target * logp).sum(axis=1).mean()

    y_soft = y_onehot * (1 - eps) + eps / n_classes

`smoothed_targets` finds label smoothing written out: one strength `s` (a name, an attribute, `self.eps`)
that a function of the file takes away from 1 (`1 - s`) and spreads over the classes (`s / K`, or `s * 0.5`
between two), where `s` is a number between `LOW` and `HIGH` wherever the file binds it (a constant, a
default argument, a keyword at a call). The cross-entropy against such targets is at least their entropy
(0.29 for 3 classes at 0.1), however well the network fits: the tiny-batch fit is not asked to go towards 0.
A small number kept away from 0 and 1 (`np.clip(p, eps, 1 - eps)` with `eps = 1e-7`) is no smoothing: its
value is below `LOW`, and it is never divided.
"""

from __future__ import annotations

import ast

LOW, HIGH = 1e-3, 0.5


def _key(node: ast.AST) -> str | None:
    """`s` for a name, `.s` for an attribute (`self.s`, `cfg.s`): the strength as written."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return "." + node.attr
    return None


def _one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and isinstance(node.value, (int, float)) and node.value == 1


def _fraction(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and isinstance(node.value, (int, float)) and 0 < node.value < 1


def _strengths(tree: ast.AST) -> dict[str, set[float]]:
    """The numbers the file binds to each name or attribute: `s = 0.1`, `self.s = 0.1`, `def f(..., s=0.1)`,
    `f(..., s=0.1)`, `{"s": 0.1}` is not read."""
    found: dict[str, set[float]] = {}

    def bind(key: str | None, value: ast.AST | None) -> None:
        if key is not None and isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            found.setdefault(key, set()).add(float(value.value))
            found.setdefault("." + key.lstrip("."), set()).add(float(value.value))  # `self.s = s` beside `s=0.1`

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(_key(target), node.value)
        elif isinstance(node, (ast.AnnAssign,)) and node.value is not None:
            bind(_key(node.target), node.value)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
                bind(arg.arg, default)
            for arg, default in zip(args.kwonlyargs, args.kw_defaults):
                bind(arg.arg, default)
    # a call of the file's own function hands its parameters what it passes: a number, or a name bound to one
    # (`smooth(onehot, EPS)` gives `eps` of `def smooth(onehot, eps)` the value of `EPS`)
    defined = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    handed: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        handed += [(k.arg, k.value) for k in node.keywords if k.arg is not None]
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
        function = defined.get(name) if name is not None else None
        if function is not None:
            names = [a.arg for a in (*function.args.posonlyargs, *function.args.args) if a.arg not in ("self", "cls")]
            handed += list(zip(names, node.args))
    for key, value in handed:
        if isinstance(value, ast.Name) and value.id in found:
            numbers = set(found[value.id])  # a copy: `f(eps=eps)` hands a name its own numbers
            found.setdefault(key, set()).update(numbers)
            found.setdefault("." + key, set()).update(numbers)
        else:
            bind(key, value)
    return found


def smoothed_targets(tree: ast.AST | None) -> tuple[str, int] | None:
    """(the strength as written, the line that takes it from 1) of label smoothing in the file's functions
    (or its top level), when one is written; None otherwise."""
    if tree is None:
        return None
    strengths = _strengths(tree)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    top = [s for s in getattr(tree, "body", []) if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    for scope in [*([f] for f in functions), top]:  # each function, then the script's own statements
        called = scope[0].name.lower() if scope and isinstance(scope[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else ""
        taken: dict[str, int] = {}
        spread: set[str] = set()
        for node in (n for stmt in scope for n in ast.walk(stmt)):
            if not isinstance(node, ast.BinOp):
                continue
            if isinstance(node.op, ast.Sub) and _one(node.left) and (key := _key(node.right)) is not None:
                taken.setdefault(key, node.lineno)
            elif isinstance(node.op, ast.Div) and (key := _key(node.left)) is not None:
                spread.add(key)
            elif isinstance(node.op, ast.Mult):
                for side, other in ((node.left, node.right), (node.right, node.left)):
                    if (key := _key(side)) is not None and _fraction(other):
                        spread.add(key)
        for key, line in taken.items():
            if key not in spread:
                continue
            values = strengths.get(key, set())
            named = "smooth" in key.lower() or "smooth" in called
            if (values and all(LOW <= v <= HIGH for v in values)) or (not values and named):
                return key.lstrip("."), line
    return None
