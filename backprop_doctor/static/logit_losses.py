"""A loss function that applies softmax to the scores it is handed: it expects logits.

    def cross_entropy_with_logits(logits, y):
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)     # softmax of its first argument
        ...

    loss, d = cross_entropy_with_logits(out, y)                  # the call on the training step's loss line

`logit_loss_calls` finds, in one statement of a training step, each call of a function or method of the
file whose first argument (after `self`) flows into an `exp` that is divided by a sum (a softmax, or a
log-sum-exp taken from it): what it is handed are logits. The value actually handed is for the replay to
read; nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class LogitLossCall:
    line: int  # the statement that calls the loss
    function: str  # "cross_entropy_with_logits", "SoftmaxCrossEntropy.forward"
    argument: str  # what the call hands it as logits ("out")
    exp_line: int  # the line of the loss function that takes the exponential


def logit_loss_calls(tree: ast.Module | None, statement: ast.stmt) -> list[LogitLossCall]:
    if tree is None:
        return []
    functions: dict[str, list[tuple[str, Function, bool]]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(node.name, []).append((node.name, node, False))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions.setdefault(item.name, []).append((f"{node.name}.{item.name}", item, True))
                    if item.name in ("forward", "__call__", "loss"):
                        functions.setdefault(node.name, []).append((f"{node.name}.{item.name}", item, True))  # `SoftmaxCE()(out, y)`
    found: list[LogitLossCall] = []
    instances = _instances(tree, {q.split(".")[0] for entries in functions.values() for q, _, m in entries if m})
    for call in (n for n in walk(statement) if isinstance(n, ast.Call) and n.args):
        func = call.func
        key = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Call):  # `Loss()(out, y)`
            inner = func.func
            key = inner.id if isinstance(inner, ast.Name) else inner.attr if isinstance(inner, ast.Attribute) else None
        candidates = functions.get(key or "", [])
        if isinstance(func, ast.Attribute):  # `loss_function.forward(...)`: the method of the receiver's class
            owner = instances.get(ast.unparse(func.value)) or instances.get(func.value.attr if isinstance(func.value, ast.Attribute) else "")
            methods = [c for c in candidates if c[2]]
            if owner is not None:
                candidates = [c for c in methods if c[0].split(".")[0] == owner]
            elif len({c[0].split(".")[0] for c in methods}) > 1:
                candidates = []  # several classes define it and the receiver's is not known: none is taken for it
        for qualname, function, method in candidates:
            if isinstance(func, ast.Name) and method and qualname.split(".")[0] != key:
                continue  # a bare call of a name that is only a method's
            line = _softmax_of_first(function, method, functions)
            if line is not None:
                found.append(LogitLossCall(statement.lineno, qualname, ast.unparse(call.args[0]), line))
                break
    return found


def _instances(tree: ast.Module, classes: set[str]) -> dict[str, str]:
    """The class of each name the file binds once, to an instance of one of its classes
    (`loss_function = Loss_CategoricalCrossentropy()`, `step_functions.instances_of`), and of each
    attribute bound so (`self.loss = SoftmaxCE()`: by the attribute as written and by its name)."""
    from backprop_doctor.static.step_functions import instances_of

    bound: dict[str, set[str]] = {}
    for node in walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) and node.value.func.id in classes:
            for target in (t for t in node.targets if isinstance(t, ast.Attribute)):
                for name in (ast.unparse(target), target.attr):
                    bound.setdefault(name, set()).add(node.value.func.id)
    return {**{name: next(iter(owners)) for name, owners in bound.items() if len(owners) == 1}, **instances_of(tree, classes)}


def _softmax_of_first(function: Function, method: bool, functions: dict[str, list[tuple[str, Function, bool]]], depth: int = 0) -> int | None:
    """The line of an `exp` of the function's first argument (or a name made from it) when the function
    also divides by a sum: a softmax of what it is handed. A call of another function of the file that is
    such a softmax of what it is handed (`p = softmax(logits)`) counts as one, one call deep."""
    arguments = [a.arg for a in function.args.posonlyargs + function.args.args]
    if method:
        arguments = arguments[1:]
    if not arguments:
        return None
    derived = {arguments[0]}
    exp_line: int | None = None
    divides_by_sum = False
    for stmt in _statements(function.body):
        reads = {n.id for n in walk(stmt) if isinstance(n, ast.Name)}
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and reads & derived:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            derived |= {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name)}
        for node in walk(stmt):
            if isinstance(node, ast.Call) and _is_exp(node.func) and any(isinstance(n, ast.Name) and n.id in derived for n in walk(node)):
                exp_line = exp_line or node.lineno
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _sums(node.right):
                divides_by_sum = True
            if (
                depth < 1 and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
                and any(isinstance(n, ast.Name) and n.id in derived for n in walk(node.args[0]))
                and any(not m and _softmax_of_first(f, False, functions, depth + 1) for _, f, m in functions.get(node.func.id, []))
            ):
                exp_line, divides_by_sum = exp_line or node.lineno, True
            if isinstance(node, ast.Call) and _is_named(node.func, ("logsumexp",)):
                exp_line, divides_by_sum = exp_line or node.lineno, True
    return exp_line if exp_line is not None and divides_by_sum else None


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        out.append(stmt)
        for block in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, block, None)
            if isinstance(inner, list):
                out.extend(_statements(inner))
    return out


def _is_exp(func: ast.expr) -> bool:
    return _is_named(func, ("exp",))


def _is_named(func: ast.expr, names: tuple[str, ...]) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr in names) or (isinstance(func, ast.Name) and func.id in names)


def _sums(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) and _is_named(n.func, ("sum", "nansum")) for n in walk(node))
