"""A momentum step function's new velocity thrown away by the training loop that calls it.

    def sgd_momentum(w, dw, v, lr=0.01, mu=0.9):
        v = mu * v - lr * dw               # a new array: the caller's velocity is not changed
        return w + v, v

    for step in range(steps):
        ...
        for k in params:
            params[k], _ = sgd_momentum(params[k], grads[k], velocity[k])   # the new velocity is dropped

`discarded_velocities(tree)` finds a function of the file that returns a tuple one of whose entries is a
velocity it binds anew from one of its arguments times a coefficient (`v = mu * v - lr * dw`, `v_new = beta *
v + g`), never changing that argument in place (no `v *= mu`, no `v[...] = ...`), and a call of it in a loop
that binds that entry to `_` or to a name nothing reads, while the argument it passes for the velocity
(`velocity[k]`) is stored nowhere in the loop. Every call then starts from the velocity the loop started
with, so momentum never builds up. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk
from backprop_doctor.static.velocity_reset import _BUFFER, _COEFFICIENT, _factor_of

_Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ReturnedState:
    """`return w + v, v` of `sgd_momentum(w, dw, v, ...)`: entry 1 is the new velocity made from argument `v`."""

    entry: int  # its place in the returned tuple
    argument: str  # the parameter the old velocity comes in by ("v")
    position: int  # that parameter's place among the call's positional arguments
    coefficient: str  # "mu"
    line: int  # where the new velocity is computed


@dataclass(frozen=True)
class VelocityDiscarded:
    function: str  # "sgd_momentum"
    line: int  # the call that drops the velocity
    statement: str  # as written
    dropped: str  # what the velocity is bound to ("_")
    velocity: str  # the argument handed in for the old velocity ("velocity[k]")
    coefficient: str
    made_line: int  # where the function computes the new velocity
    loop_line: int


def discarded_velocities(tree: ast.AST | None, text: str | None = None) -> list[VelocityDiscarded]:
    """Every call in a loop that drops the new velocity a step function of the file returns."""
    if tree is None:
        return []

    def shown(node: ast.AST) -> str:
        written = ast.get_source_segment(text, node) if text is not None else None
        return " ".join(written.split()) if written else ast.unparse(node)

    defined: dict[str, list[_Function]] = {}
    for node in walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.setdefault(node.name, []).append(node)
    states = {name: (fs[0], s) for name, fs in defined.items() if len(fs) == 1 and (s := returned_states(fs[0]))}
    if not states:
        return []
    found: list[VelocityDiscarded] = []
    seen: set[int] = set()
    for loop in walk(tree):
        if not isinstance(loop, (ast.For, ast.While, ast.AsyncFor)):
            continue
        body = [n for s in loop.body for n in _own(s)]
        for stmt in body:
            if id(stmt) in seen or not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple)):
                continue
            call = stmt.value
            if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else None
            if name not in states:
                continue
            function, returned = states[name]
            shift = 1 if isinstance(call.func, ast.Attribute) and _is_method(function) else 0
            targets = stmt.targets[0].elts
            for state in returned:
                if len(targets) <= state.entry or not isinstance(targets[state.entry], ast.Name):
                    continue
                dropped = targets[state.entry].id
                if dropped != "_" and _read(body, dropped):
                    continue  # bound to a name the loop reads again: kept
                passed = _argument(call, function, state, shift)
                if passed is None or not isinstance(passed, (ast.Name, ast.Subscript, ast.Attribute)):
                    continue
                root = _root(passed)
                if root is None or _stored(body, root, call):
                    continue
                seen.add(id(stmt))
                found.append(VelocityDiscarded(
                    name, stmt.lineno, shown(stmt), dropped, ast.unparse(passed), state.coefficient, state.line, loop.lineno,
                ))  # fmt: skip
                break
    return sorted(found, key=lambda f: f.line)


def returned_states(function: _Function) -> list[ReturnedState]:
    """The entries of the tuple `function` returns that are a velocity it makes anew from an argument, times a coefficient."""
    own = [n for s in function.body for n in _own(s)]
    returns = [s for s in own if isinstance(s, ast.Return) and s.value is not None]
    if not returns or not all(isinstance(r.value, ast.Tuple) for r in returns):
        return []
    last = returns[-1].value
    assert isinstance(last, ast.Tuple)
    positional = [a.arg for a in function.args.posonlyargs + function.args.args]
    found = []
    for entry, element in enumerate(last.elts):
        if not isinstance(element, ast.Name):
            continue
        bindings = [s for s in own if isinstance(s, ast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name) and s.targets[0].id == element.id and s.lineno < returns[-1].lineno]  # fmt: skip
        if not bindings:
            continue
        made = bindings[-1]
        for argument in positional:
            coefficient = _factor_of(made.value, lambda n, a=argument: isinstance(n, ast.Name) and n.id == a)
            if coefficient is None or _changed_in_place(own, argument):
                continue
            if not (_BUFFER.fullmatch(argument) or _COEFFICIENT.fullmatch(coefficient.strip("()"))):  # not `lr * dw`: the gradient's term
                continue
            if any(isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == argument for t in s.targets)
                   and s.lineno < made.lineno and s is not made for s in own):  # fmt: skip
                continue  # the argument bound to something else before the velocity is made from it
            found.append(ReturnedState(entry, argument, positional.index(argument), coefficient, made.lineno))
            break
    return found


def _own(stmt: ast.stmt) -> list[ast.stmt]:
    """A statement and those nested in its blocks, not in a def or class inside it."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    found = [stmt]
    for field in ("body", "orelse", "finalbody"):
        for inner in getattr(stmt, field, []) or []:
            found += _own(inner)
    for handler in getattr(stmt, "handlers", []) or []:
        for inner in handler.body:
            found += _own(inner)
    return found


def _is_method(function: _Function) -> bool:
    args = function.args.posonlyargs + function.args.args
    return bool(args) and args[0].arg in ("self", "cls")


def _changed_in_place(own: list[ast.stmt], name: str) -> bool:
    """`v *= mu`, `v[...] = ...`, `v[:] = ...`, `np.multiply(v, mu, out=v)`: the caller's array changes too."""
    for stmt in own:
        if isinstance(stmt, ast.AugAssign) and _root(stmt.target) == name:
            return True
        if isinstance(stmt, ast.Assign) and any(not isinstance(t, ast.Name) and _root(t) == name for t in stmt.targets):
            return True
        for n in walk(stmt):
            if isinstance(n, ast.Call) and (
                any(k.arg == "out" and _root(k.value) == name for k in n.keywords)
                or (isinstance(n.func, ast.Attribute) and _root(n.func.value) == name and n.func.attr in ("fill", "__imul__", "__iadd__", "__isub__"))
            ):  # fmt: skip
                return True
    return False


def _root(node: ast.AST) -> str | None:
    """The name an expression's subscripts and attributes hang from (`velocity` of `velocity[k]`, `self` of `self.v[k]`);
    for `self.v[k]`, `self.v`."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return ast.unparse(node)
    return None


def _argument(call: ast.Call, function: _Function, state: ReturnedState, shift: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == state.argument:
            return keyword.value
    position = state.position - shift
    return call.args[position] if 0 <= position < len(call.args) else None


def _read(body: list[ast.stmt], name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for s in body for n in walk(s))


def _stored(body: list[ast.stmt], root: str, call: ast.Call) -> bool:
    """Whether the loop writes the velocity's store (`velocity[k] = ...`, `velocity = ...`, `self.v[k] += ...`) or hands
    it whole to another call that might."""
    for stmt in body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For)) else []
        if any(isinstance(t, (ast.Name, ast.Subscript, ast.Attribute)) and _root(t) == root for target in targets for t in walk(target)):
            return True
        for n in walk(stmt):
            if isinstance(n, ast.Call) and n is not call and any(_root(a) == root and not isinstance(a, ast.Subscript) for a in n.args):
                return True
    return False
