"""An operation of a hand-written scalar autograd engine (micrograd style) passes back a wrong gradient.

What it finds:
    A `Value` class that wraps one number, with operators that return new
    values and `_backward` closures that pass the gradient back, is checked
    operation by operation: each one (`a + b`, `a * b`, `a ** 3`, `a.tanh()`,
    `a.exp()`, ...) is built on fresh values, your own `backward()` is run,
    and every input's `grad` is compared with the slope of the output's
    `data`. A value used twice (`a * a`) shows a gradient assigned with `=`
    where it must be added with `+=`; a chain of operations that are each
    right shows a `backward()` that visits the graph in the wrong order,
    named at the loop that calls the closures. An array engine (a `Tensor`
    class wrapping an ndarray) is checked the same way, on one-element arrays,
    and its matrix product (`a @ b`) on 1 × 1 matrices: a `_backward` that
    sets `self.grad = out.grad @ other.data.T` loses a skip connection's share.

Why it matters:
    Every neuron, layer and loss is built from these few operations: one
    wrong derivative, or one `=` instead of `+=`, and every network made
    with the class follows a wrong gradient, however right the rest is.

Example:
    def _backward():
        self.grad = other.data * out.grad

Fix:
    def _backward():
        self.grad += other.data * out.grad
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.locate import _function_tree, where
from backprop_doctor.rules import rule

NAME = "scalar-backward-wrong"
CODE = "BPD110"
SEVERITY = "error"
STAGE = "gradient"


def run(context: Any) -> Iterator[Finding]:
    for cls, checks in context.extras.get("scalar_autograd") or []:
        ops = [c for c in checks if c.kind == "op"]
        primitives = [c for c in ops if c.wrong and _closure(cls, c.method) is not None]
        assigned = [c for c in ops if c.assigned and _closure(cls, c.method) is not None]  # `__neg__` via `__mul__`: that one's
        reported: set[str] = set()
        for check in primitives:  # an operation's own closure multiplies by a wrong local derivative
            if check.method not in reported:
                reported.add(check.method)
                yield _wrong_derivative(cls, check)
        for check in assigned:  # an operation's own closure sets its inputs' gradients
            if check.method not in reported:
                reported.add(check.method)
                yield _assigned(cls, check)
        if primitives or assigned:
            continue
        rest = next((c for c in checks if c.wrong), None)  # every operation alone is right, yet a composite or a chain is not
        if rest is not None:
            yield _order(cls, rest)


def _inputs(check: Any) -> str:
    return ", ".join(f"{name} = {value:g}" for name, value in (("a", 0.7), ("b", -1.3)) if name in check.numerical)


def _values(check: Any) -> str:
    parts = [f"`{n}.grad` is {check.analytic[n]:.6g} where the slope is {check.numerical[n]:.6g}" for n in check.wrong]
    return "; ".join(parts)


def _wrong_derivative(cls: type, check: Any) -> Finding:
    file, line = _grad_statement(cls, check.method, check.wrong[0]) or _closure(cls, check.method) or _place(cls, check.method)
    return rule(NAME).finding(
        f"`{cls.__name__}.{check.method}` passes back a wrong gradient: for `{check.expression}` at {_inputs(check)}, "
        f"{_values(check)}: re-derive the local derivative its `_backward` multiplies `out.grad` by",
        layer=f"{cls.__name__}.{check.method}",
        param=check.wrong[0],
        file=file,
        line=line,
        measured=max(check.error(n) for n in check.wrong),
        pattern="wrong-derivative",
        evidence=tuple((f"`{check.expression}`, {n}", f"yours {check.analytic[n]:.10g}, numerical {check.numerical[n]:.10g}") for n in check.numerical),
    )


USED_TWICE = {"__matmul__": "h @ W + h"}  # how a value of an operation is used twice, where `a * b + a` is not the operation's


def _assigned(cls: type, check: Any) -> Finding:
    assignment = _assignment(cls, check.method, check.assigned[0])
    file, line = assignment or _closure(cls, check.method) or _place(cls, check.method)
    names = " and ".join(f"`{n}.grad`" for n in check.assigned)
    written = linecache.getline(file, line).strip() if file and line else ""
    # every gradient the line sets (`self.grad = ...; other.grad = ...`), not only the first
    fix = re.sub(r"\.grad\s*=(?!=)", ".grad +=", written) if assignment is not None and written else None
    return rule(NAME).finding(
        f"`{cls.__name__}.{check.method}` sets {names} instead of adding to {'them' if len(check.assigned) > 1 else 'it'}: "
        f"a value used more than once (`{USED_TWICE.get(check.method, 'a * b + a')}`) keeps only the gradient of its last use: "
        "write `+=` in its `_backward`",
        layer=f"{cls.__name__}.{check.method}",
        param=check.assigned[0],
        file=file,
        line=line,
        pattern="gradient-assigned",
        fix=fix,
        evidence=((f"`{check.expression}`", f"with {check.assigned[0]}.grad = 10 before its closure runs, it holds only the local gradient after"),),
    )


def _order(cls: type, check: Any) -> Finding:
    file, line = _closure_loop(cls) or _place(cls, "backward")
    return rule(NAME).finding(
        f"every operation of `{cls.__name__}` passes back the right gradient alone, but `{check.expression}` does not "
        f"({_values(check)}): `{cls.__name__}.backward` calls the `_backward` closures in an order where a node passes "
        "its gradient on before every use of it has added to it; sort the graph topologically and call them from the "
        "output back, after setting the output's gradient to 1",
        layer=f"{cls.__name__}.backward",
        param=check.wrong[0],
        file=file,
        line=line,
        measured=max(check.error(n) for n in check.wrong),
        pattern="backward-order",
    )


def _closure_loop(cls: type) -> tuple[str, int] | None:
    """The loop of `backward` that calls each node's closure (`for node in topo: node._backward()`):
    the order it walks the graph in is the one to change. None when `backward` has no such loop."""
    found = _tree(cls, "backward")
    if found is None:
        return None
    file, start, tree = found
    loops = [
        loop for loop in ast.walk(tree)
        if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name)
        and any(
            isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
            and call.func.value.id == loop.target.id
            for stmt in loop.body for call in ast.walk(stmt)
        )
    ]  # fmt: skip
    return (file, start + loops[-1].lineno - 1) if loops else None


def _method(cls: type, method: str) -> Any:
    return inspect.getattr_static(cls, method, None)


def _place(cls: type, method: str) -> tuple[str | None, int | None]:
    found = where(_method(cls, method))
    return found.file, found.line


def _tree(cls: type, method: str) -> tuple[str, int, ast.AST] | None:
    found = _function_tree(_method(cls, method))
    if found is None:
        return None
    tree, start, file = found
    return file, start, tree


def _closure(cls: type, method: str) -> tuple[str, int] | None:
    """Where the method's own backward closure is defined (the first function nested in it)."""
    found = _tree(cls, method)
    if found is None:
        return None
    file, start, tree = found
    inner = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda)) and n is not tree.body[0]]
    return (file, start + inner[0].lineno - 1) if inner else None


def _grad_statement(cls: type, method: str, operand: str) -> tuple[str, int] | None:
    """The statement of the method's closure that passes the gradient to `operand` ("a": the method's
    own value, `self.grad += ...`; "b": the other one, `other.grad += ...`); the closure's only such
    statement when there is one."""
    found = _tree(cls, method)
    if found is None:
        return None
    file, start, tree = found
    inner = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n is not tree.body[0]]
    if not inner:
        return None
    writes = [
        n for n in ast.walk(inner[0])
        if isinstance(n, (ast.Assign, ast.AugAssign))
        and any(isinstance(t, ast.Attribute) and t.attr == "grad" for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
    ]  # fmt: skip
    if len(writes) == 1:
        return file, start + writes[0].lineno - 1
    outer = tree.body[0]
    me = outer.args.args[0].arg if isinstance(outer, ast.FunctionDef) and outer.args.args else "self"
    for node in writes:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        owners = {ast.unparse(t.value) for t in targets if isinstance(t, ast.Attribute)}
        if (operand == "a" and me in owners) or (operand == "b" and owners - {me}):
            return file, start + node.lineno - 1
    return None


def _assignment(cls: type, method: str, operand: str = "a") -> tuple[str, int] | None:
    """The `x.grad = ...` (not `+=`, nor `x.grad = x.grad + ...`, which adds too) in the method's nested
    closure: the one setting `operand`'s ("a": the method's own value, `self.grad = ...`; "b": the other)
    when the closure sets more than one, else the first."""
    found = _tree(cls, method)
    if found is None:
        return None
    file, start, tree = found
    sets = []
    for node in ast.walk(tree):
        targets = [t for t in node.targets if isinstance(t, ast.Attribute) and t.attr == "grad"] if isinstance(node, ast.Assign) else []
        if not targets or isinstance(node.value, ast.Constant):  # `out.grad = 1.0` seeds, it does not pass back
            continue
        if any(ast.unparse(t) in {ast.unparse(n) for n in ast.walk(node.value)} for t in targets):
            continue  # `self.grad = self.grad + out.grad`: it adds
        sets.append((node, {ast.unparse(t.value) for t in targets}))
    if not sets:
        return None
    outer = tree.body[0] if getattr(tree, "body", None) else None
    me = outer.args.args[0].arg if isinstance(outer, ast.FunctionDef) and outer.args.args else "self"
    mine = [n for n, owners in sets if (me in owners) == (operand == "a")]
    return file, start + (mine or [sets[0][0]])[0].lineno - 1
