"""A momentum buffer made again as zeros at every pass of the training loop that decays it.

    for t in range(steps):
        vel = tuple(np.zeros_like(p) for p in params)            # every pass: the velocity starts from zero
        g = grads(params, X, Y)
        vel = tuple(mu * v - lr * gi for v, gi in zip(vel, g))   # the decayed term is always zero
        params = tuple(p + v for p, v in zip(params, vel))

`velocity_resets(tree)` finds, in the body of a loop (not under an `if` of it), a statement that binds a
name to zeros (`np.zeros_like(W)`, `np.zeros(shape)`, `0.0`, a list, tuple or dict of them built by a
comprehension or written out) followed, in the same pass of the same loop (not inside a loop nested in
it), by a statement that binds that name again to a value that multiplies what it held by a coefficient
(`v = mu * v - lr * g`, `m = beta * m + (1 - beta) * g`, `vel = [mu * v + g for v, g in zip(vel, grads)]`,
`v[k] = 0.9 * v[k] + ...`), and by a later statement of the loop that reads it again (the update that adds
it to the parameters). A buffer made once before the loop, or made again under a test
(`if t % reset == 0:`), is not one. Nothing here runs user code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

_ZEROS = {"zeros_like", "zeros"}
_BUFFER = re.compile(r"(?i)v|vs|vel\w*|veloc\w*|v_\w+|v[A-Z]\w*|v\d+|mom\w*|m|ms|m_\w+|buf\w*|\w*_buf\w*|\w*velocit\w*|\w*momentum\w*|moments?|update_?\w*")
_COEFFICIENT = re.compile(r"(?i)mu|momentum\w*|beta\w*|b1|b2|gamma|rho|decay\w*|self\.\w*(momentum|beta|mu)\w*|0?\.[5-9]\d*")


@dataclass(frozen=True)
class VelocityReset:
    name: str  # the buffer ("vel")
    line: int  # the statement that makes it zeros again every pass
    statement: str  # as parsed
    decay_line: int  # the statement that decays it (`vel = mu * v - ...`)
    decay: str
    coefficient: str  # the factor its old value is multiplied by ("mu")
    loop_line: int


def velocity_resets(tree: ast.AST | None, text: str | None = None) -> list[VelocityReset]:
    """Every buffer of the file made zeros again at each pass before its decay (`text`: the file's, for the statements as written)."""

    def shown(node: ast.AST) -> str:
        written = ast.get_source_segment(text, node) if text is not None else None
        return " ".join(written.split()) if written else ast.unparse(node)

    if tree is None:
        return []
    found = []
    for loop in walk(tree):
        if not isinstance(loop, (ast.For, ast.While)):
            continue
        for i, stmt in enumerate(loop.body):
            name = _zeros_bound(stmt)
            if name is None:
                continue
            rest = loop.body[i + 1 :]
            decay = next(((s, c) for s in _same_pass(rest, name) if (c := _decays(s, name)) is not None), None)
            if decay is None:
                continue
            stmt_decay, coefficient = decay
            if not (_BUFFER.fullmatch(name.rpartition(".")[2]) or _COEFFICIENT.fullmatch(coefficient.strip("()"))):
                continue  # `c = f * c + i * g`: a cell state started again for each sequence, not a momentum buffer
            if _bound_between(rest, name, stmt_decay):
                continue
            later = [s for s in _after(loop.body, stmt_decay)]
            if not any(_spelled(n) == name and isinstance(n.ctx, ast.Load) for s in later for n in walk(s)):
                continue
            found.append(VelocityReset(name, stmt.lineno, shown(stmt), stmt_decay.lineno, shown(stmt_decay), coefficient, loop.lineno))
    return found


def _zeros_bound(stmt: ast.stmt) -> str | None:
    """The name `stmt` binds to zeros (`v = np.zeros_like(W)`, `vel = tuple(np.zeros_like(p) for p in params)`), or
    the attribute, as written (`self.vel = {k: np.zeros_like(p) for k, p in self.params.items()}`: an optimizer's or a
    trainer's buffer)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _spelled(stmt.targets[0]) is not None):
        return None
    return _spelled(stmt.targets[0]) if _is_zeros(stmt.value) else None


def _spelled(node: ast.AST) -> str | None:
    """`v`, `self.vel`, `opt.state.m`: a name or a chain of attributes on one, as written; None for anything else."""
    inner = node
    while isinstance(inner, ast.Attribute):
        inner = inner.value
    return ast.unparse(node) if isinstance(inner, ast.Name) and isinstance(node, (ast.Name, ast.Attribute)) else None


def _is_zeros(value: ast.AST) -> bool:
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
        return value.value == 0
    if isinstance(value, ast.Call):
        func = value.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if called in _ZEROS:
            return True
        if called in ("tuple", "list", "dict") and len(value.args) == 1:
            return _is_zeros(value.args[0])
        return False
    if isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return _is_zeros(value.elt)
    if isinstance(value, ast.DictComp):
        return _is_zeros(value.value)
    if isinstance(value, (ast.List, ast.Tuple)):
        return bool(value.elts) and all(_is_zeros(e) for e in value.elts)
    if isinstance(value, ast.Dict):
        return bool(value.values) and all(_is_zeros(v) for v in value.values)
    return False


def _same_pass(body: list[ast.stmt], name: str | None = None) -> list[ast.stmt]:
    """The statements of `body` and of the blocks inside them (`if`, `with`, `try`), not of a def nested in it nor of a
    loop nested in it, unless that loop walks the entries of the buffer `name` (`for k in params: velocity[k] = ...`,
    `for k in velocity`): one pass over the parameters, not more steps."""
    found = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, (ast.For, ast.While, ast.AsyncFor)) and not (name is not None and _walks_entries(stmt, name)):
            continue
        found.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            found.extend(_same_pass(getattr(stmt, field, []) or [], name))
        for handler in getattr(stmt, "handlers", []) or []:
            found.extend(_same_pass(handler.body, name))
    return found


def _walks_entries(loop: ast.stmt, name: str) -> bool:
    """A `for` loop over the entries of `name`: its iterable reads `name`, or its body indexes `name` by its variable."""
    if not isinstance(loop, ast.For):
        return False
    if any(_spelled(n) == name for n in walk(loop.iter)):
        return True
    variables = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}
    for n in (m for s in loop.body for m in walk(s)):
        if isinstance(n, ast.Subscript) and _spelled(n.value) == name:
            if any(isinstance(k, ast.Name) and k.id in variables for k in walk(n.slice)):
                return True
    return False


def _decays(stmt: ast.stmt, name: str) -> str | None:
    """The coefficient `stmt` multiplies the old value of `name` by as it binds it again: `v = mu * v - lr * g`,
    `v[k] = beta * v[k] + ...`, `vel = tuple(mu * v - lr * g for v, g in zip(vel, grads))`, `v *= mu`."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Mult) and _names(stmt.target, name):
        return ast.unparse(stmt.value)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _names(stmt.targets[0], name)):
        return None
    value = stmt.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("tuple", "list") and len(value.args) == 1:
        value = value.args[0]
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)) and len(value.generators) == 1:
        loop = value.generators[0]
        walked = loop.iter
        if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Name) and walked.func.id == "zip" and isinstance(loop.target, ast.Tuple):
            for arg, var in zip(walked.args, loop.target.elts):
                if _spelled(arg) == name and isinstance(var, ast.Name):
                    return _factor_of(value.elt, lambda n, v=var.id: isinstance(n, ast.Name) and n.id == v)
        return None
    return _factor_of(value, lambda n: _names(n, name))


def _names(node: ast.AST, name: str) -> bool:
    """`node` is `name`, or an entry of it (`v[k]`, `v[i][j]`, `self.v[k]`)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return _spelled(node) == name


def _factor_of(expression: ast.AST, old: object) -> str | None:
    """The factor of a product in `expression` whose other operand is the old value (`mu` of `mu * v`)."""
    for n in walk(expression):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            for here, there in ((n.left, n.right), (n.right, n.left)):
                if old(here) and not any(old(m) for m in walk(there)):  # type: ignore[operator]
                    return ast.unparse(there)
    return None


def _bound_between(rest: list[ast.stmt], name: str, until: ast.stmt) -> bool:
    """Whether a statement of `rest` before `until` binds `name` otherwise (loaded from a store kept across passes)."""
    for stmt in _same_pass(rest, name):
        if stmt is until:
            return False
        if isinstance(stmt, ast.Assign) and any(_spelled(t) == name and isinstance(t.ctx, ast.Store) for tgt in stmt.targets for t in walk(tgt)):
            return True
    return False


def _after(body: list[ast.stmt], stmt: ast.stmt) -> list[ast.stmt]:
    """The statements of the loop's body that run after `stmt` in its pass (its own later siblings and theirs)."""
    flat = _flat(body)
    index = next((i for i, s in enumerate(flat) if s is stmt), None)
    return [] if index is None else [s for s in flat[index + 1 :] if not any(s is a or _inside(s, a) for a in [stmt])]


def _flat(body: list[ast.stmt]) -> list[ast.stmt]:
    found = []
    for stmt in body:
        found.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.extend(_flat(inner))
    return found


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    return any(n is node for n in walk(outer))


@dataclass(frozen=True)
class OptimizerReset:
    name: str  # the object made again at every pass ("opt")
    cls: str  # its class ("Adam")
    line: int  # the statement that constructs it in the loop
    statement: str
    buffer: str  # the state its constructor makes zeros ("self.m")
    made_line: int  # where the constructor makes it zeros
    method: str  # the method that decays it ("update")
    call_line: int  # the call of that method in the same pass
    decay: str  # the statement of the method that decays it
    decay_line: int
    coefficient: str
    loop_line: int


def optimizer_resets(tree: ast.AST | None, text: str | None = None) -> list[OptimizerReset]:
    """Every object of a class of the file constructed in the body of a loop (not under a test of it) whose constructor
    makes a buffer zeros (`self.m = [np.zeros(s) for s in shapes]`) that a method decays (`m[...] = self.beta1 * m + ...`
    for the entries of `zip(params, grads, self.m)`), when that method is called on it later in the same pass: the
    optimizer's running state starts again from zeros at every step. An optimizer made once before the loop, or made
    again under a test, or stepped in a loop nested in the one that makes it, is not one."""

    def shown(node: ast.AST) -> str:
        written = ast.get_source_segment(text, node) if text is not None else None
        return " ".join(written.split()) if written else ast.unparse(node)

    if tree is None:
        return []
    states: dict[str, list[tuple[str, int, str, ast.stmt, str]]] = {}
    for cls in walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        methods = [m for m in cls.body if isinstance(m, ast.FunctionDef)]
        init = next((m for m in methods if m.name == "__init__"), None)
        if init is None:
            continue
        made = {n: s.lineno for s in _flat(init.body) if (n := _zeros_bound(s)) is not None and n.startswith("self.")}
        for method in methods:
            if method is init:
                continue
            for buffer, made_line in made.items():
                decay = _method_decays(method, buffer)
                if decay is not None:
                    states.setdefault(cls.name, []).append((buffer, made_line, method.name, decay[0], decay[1]))
    if not states:
        return []
    found = []
    for loop in walk(tree):
        if not isinstance(loop, (ast.For, ast.While)):
            continue
        for i, stmt in enumerate(loop.body):
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
                continue
            value = stmt.value
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in states):
                continue
            name = stmt.targets[0].id
            rest = _same_pass(loop.body[i + 1 :])
            for buffer, made_line, method, decay, coefficient in states[value.func.id]:
                call = next(
                    (
                        n
                        for s in rest
                        for n in walk(s)
                        if isinstance(n, ast.Call)
                        and isinstance(n.func, ast.Attribute)
                        and n.func.attr == method
                        and isinstance(n.func.value, ast.Name)
                        and n.func.value.id == name
                    ),
                    None,
                )
                if call is None or _rebinds(rest, name, call):
                    continue
                found.append(
                    OptimizerReset(
                        name, value.func.id, stmt.lineno, shown(stmt), buffer, made_line, method, call.lineno,
                        shown(decay), decay.lineno, coefficient, loop.lineno,
                    )
                )
                break
    return found


def _method_decays(method: ast.FunctionDef, buffer: str) -> tuple[ast.stmt, str] | None:
    """The statement of `method` that decays `buffer` and its coefficient: `self.v = mu * self.v + g`, `self.v[k] *= mu`,
    or, in a loop over `zip(..., self.v, ...)`, an entry of it (`v *= self.beta`, `m[...] = self.beta1 * m + ...`)."""
    for stmt in _flat(method.body):
        coefficient = _decays(stmt, buffer)
        if coefficient is not None:
            return stmt, coefficient
        if isinstance(stmt, ast.For) and isinstance(stmt.iter, ast.Call) and isinstance(stmt.iter.func, ast.Name):
            if stmt.iter.func.id == "zip" and isinstance(stmt.target, ast.Tuple):
                for arg, var in zip(stmt.iter.args, stmt.target.elts):
                    if _spelled(arg) == buffer and isinstance(var, ast.Name):
                        for inner in _flat(stmt.body):
                            coefficient = _decays(inner, var.id)
                            if coefficient is not None:
                                return inner, coefficient
    return None


def _rebinds(rest: list[ast.stmt], name: str, until: ast.Call) -> bool:
    """Whether a statement of `rest` that runs before the call `until` binds `name` again."""
    for stmt in rest:
        if any(n is until for n in walk(stmt)):
            return False
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for tgt in stmt.targets for t in walk(tgt)):
            return True
    return False
