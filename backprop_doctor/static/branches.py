"""A backward whose input gradient adds two branches, and the stores each branch's adjoint feeds.

    def backward(self, dout):
        da = dout * self.s                       # the linear branch's adjoint
        dg = dout * self.s * (1 - self.s)        # the gate's: `self.a` left out
        self.dW = self.x.T @ da
        self.db = da.sum(axis=0)
        self.dV = self.x.T @ dg
        self.dc = dg.sum(axis=0)
        return da @ self.W.T + dg @ self.V.T

A gated unit (`out = a * sigmoid(g)`), a residual block or any layer with two paths from its input
to its output adds one input gradient per path. The gradient check sees the input gradient wrong at
the line that adds them, and the gate's parameter gradients wrong at their stores, none of which is
the mistake. `split` reads such a backward: the adjoints the input gradient's statement adds, each
bound once before it, and the statements that write a parameter's gradient into the layer from one
of them alone, so that a check knowing which parameters are wrong can name the adjoint they share.
Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.conventions._base import gradient_names
from backprop_doctor.static.tree import walk
from backprop_doctor.static.upstream import _depends_on as depends_on, _reads

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Store:
    line: int  # `self.dV = self.x.T @ dg`, `self.grads[nm + ".V"] = ...`
    attribute: str | None  # `dV` of `self.dV`
    key: str | None  # the key's string, or its last string part: `.V` of `nm + ".V"`, `V` of f"{nm}V"

    def writes(self, param: str) -> bool:
        """Whether this store may hold `param`'s gradient: `self.dV` of `V`, `grads["V"]` or `grads[nm + ".V"]`
        of `glu.V`."""
        if self.attribute is not None:
            return self.attribute in gradient_names(param)
        return self.key is not None and (param == self.key or param.endswith(self.key))


@dataclass(frozen=True)
class Branch:
    name: str  # the adjoint, `dg`
    line: int  # the statement binding it
    text: str  # that statement as written
    stores: tuple[Store, ...]  # the gradient stores computed from it and from no other branch


def split(function: Function, line: int) -> list[Branch] | None:
    """The branches the statement at `line` (the input gradient: `return da @ W.T + dg @ V.T`, `dx = ...`)
    adds: two or more local adjoints it reads, each bound by one statement of the function's body
    before it, with the stores into the layer (`self.NAME = ...`, `self.NAME[key] = ...`) that depend on
    that adjoint and on no other branch's; None when the statement reads fewer than two such adjoints."""
    body = list(function.body)
    at = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    if not isinstance(at, (ast.Assign, ast.AnnAssign, ast.Return)) or getattr(at, "value", None) is None:
        return None
    assigns = [s for s in body if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    bound: dict[str, list[ast.stmt]] = {}
    for s in assigns:
        for name in _binds(s):
            bound.setdefault(name, []).append(s)
    read = sorted((n for n in _reads(at) if n in bound), key=lambda n: bound[n][0].lineno)
    adjoints = [n for n in read if len(bound[n]) == 1 and bound[n][0].lineno < at.lineno and n.lower().startswith(("d", "grad", "delta"))]
    if len(adjoints) < 2 or len({bound[n][0].lineno for n in adjoints}) != len(adjoints):
        return None
    lines = {bound[n][0].lineno: n for n in adjoints}
    per: dict[str, list[Store]] = {n: [] for n in adjoints}
    for s in assigns:
        if s is at or s.lineno in lines:
            continue
        store = _store(s)
        if store is None:
            continue
        feeds = {lines[d] for d in _depends_on(assigns, s) if d in lines}
        if len(feeds) == 1:
            per[feeds.pop()].append(store)
    return [Branch(n, bound[n][0].lineno, ast.unparse(bound[n][0]), tuple(per[n])) for n in adjoints]


def _store(stmt: ast.stmt) -> Store | None:
    """The store into the layer `stmt` makes (`self.dW = ...`, `self.grads[key] = ...`), or None."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
    if len(targets) != 1:
        return None
    target = targets[0]
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return Store(stmt.lineno, target.attr, None)
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) and isinstance(target.value.value, ast.Name):
        if target.value.value.id != "self":
            return None
        key = _key_tail(target.slice)
        return Store(stmt.lineno, None, key) if key else None
    return None


def _key_tail(key: ast.expr) -> str | None:
    """The string a key is, or ends with: `"W"`, `nm + ".V"`, `f"{nm}.V"`."""
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    if isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add):
        return _key_tail(key.right)
    if isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[-1], ast.Constant):
        tail = key.values[-1].value
        return tail if isinstance(tail, str) and tail else None
    return None


def _binds(stmt: ast.stmt) -> set[str]:
    """The names a statement stores to (`d` of `d[i] = ...` is not one: that writes into it)."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
    return {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _depends_on(body: list[ast.stmt], stmt: ast.stmt) -> set[int]:
    """`static.upstream`'s dependency walk, with names bound only where they are stored to."""
    return depends_on(body, stmt, binds=_binds)
