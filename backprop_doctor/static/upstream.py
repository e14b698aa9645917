"""The statement every wrong gradient of one backward pass is computed from.

When a layer's or a function's gradients are all wrong (`dx`, `dprev_h`, `dWx`, `dWh`, `db` of an
RNN step), the mistake is rarely in each of their lines: it is in what they share, usually the
gradient through the activation (`da = dnext_h * (1 - next_h)` where `1 - next_h ** 2` belongs).
`shared_source` follows each wrong gradient's line back through the assignments of its function
and returns the latest statement they all depend on, when that one is computed from the upstream
gradient (reads it, or a statement it depends on does).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from backprop_doctor.static.tree import walk


def shared_source(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    lines: list[int],
    upstream: str | None = None,
    *,
    reads_upstream: bool = True,
    module: ast.Module | None = None,
) -> ast.stmt | None:
    """The latest assignment that every statement at `lines` depends on (through the function's own
    straight-line assignments), when it reads the function's upstream gradient itself (`upstream`,
    else its first parameter after `self`; with `reads_upstream` False, whatever it reads: a network's
    `dy = (y - t) / batch_num`); None when they share none, the latest shared one only combines other
    paths, or a line is not in the body. With `module`, a rescaling by a factor the rest of it applies the same
    way (`ds = ds / temperature` beside forward's `q @ k.T / temperature`) is passed over for the statement
    whose value it rescales: the backward of a product by a constant is right whatever it scales."""
    body = straight_body(function)
    params = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
    upstream = upstream or (params[0] if params else None)
    if upstream is None and reads_upstream:
        return None
    at = {s.lineno: s for s in body}
    if len(lines) < 2 or any(line not in at for line in lines):
        return None
    shared: set[int] | None = None
    for line in lines:
        found = _depends_on(body, at[line])
        shared = found if shared is None else shared & found
    if not shared:
        return None
    latest = at[max(shared)]  # a combination of several paths (an LSTM's `np.hstack` of its gates) is no one place
    if module is not None:
        from backprop_doctor.static.wrong_only import rescaled_from

        earlier = rescaled_from(body, latest, function, module)
        if earlier is not None and earlier.lineno in shared:
            latest = earlier
    if not reads_upstream:
        return latest
    if _uses_values(latest, upstream):
        return latest
    # computed from one adjoint of the upstream gradient (`dgate = dout * (h - x)`, then `dzt = dgate * gate`):
    # a gradient of its own, not what the cache holds nor a combination of several paths
    return latest if len(_adjoints_read(body, latest, upstream)) == 1 else None


def straight_body(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The assignments of `function`'s own body, not those nested in its loops or branches: the
    straight-line statements whose dependencies `_depends_on` follows."""
    return [s for s in function.body if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign))]


def returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The `return <value>` statements of `function`'s own body (not nested in its loops or branches): where a
    gradient computed in the return itself shows (`return dq @ Wq.T + dk @ Wk.T`), read as `straight_body`'s
    statements are, though nothing reads what they bind."""
    return [s for s in function.body if isinstance(s, ast.Return) and s.value is not None]


def _adjoints_read(body: list[ast.stmt], stmt: ast.stmt, upstream: str) -> set[str]:
    """The names `stmt` reads whose last binding before it is computed from `upstream`'s values,
    itself or through the statements it depends on."""
    found = set()
    for name in _reads(stmt):
        binding = next((s for s in reversed(body) if s.lineno < stmt.lineno and name in _binds(s)), None)
        if binding is None:
            continue
        through = [binding, *(s for s in body if s.lineno in _depends_on(body, binding))]
        if any(_uses_values(s, upstream) for s in through):
            found.add(name)
    return found


def _uses_values(stmt: ast.stmt, name: str) -> bool:
    """`stmt` computes with `name`'s values, not only its shape (`N, T, H = dh.shape`)."""
    value = getattr(stmt, "value", None)
    if value is None:
        return False
    sizes = {id(n.value) for n in walk(value) if isinstance(n, ast.Attribute) and n.attr in ("shape", "ndim", "size", "dtype")}
    sizes |= {id(n.args[0]) for n in walk(value) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len" and n.args}
    return any(isinstance(n, ast.Name) and n.id == name and id(n) not in sizes for n in walk(value))


def _reads(stmt: ast.stmt) -> set[str]:
    value = getattr(stmt, "value", None)
    names = {n.id for n in walk(value) if isinstance(n, ast.Name)} if value is not None else set()
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        names.add(stmt.target.id)
    return names


def _binds(stmt: ast.stmt) -> set[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
    return {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name)}


def _depends_on(body: list[ast.stmt], stmt: ast.stmt, binds: Callable[[ast.stmt], set[str]] = _binds) -> set[int]:
    """Lines of the earlier assignments `stmt` reads from, transitively (the last binding of each name);
    `binds`: the names a statement binds (by default any name its targets hold, `d` of `d[i] = ...` too)."""
    found: set[int] = set()
    wanted = _reads(stmt)
    for earlier in reversed([s for s in body if s.lineno < stmt.lineno]):
        bound = binds(earlier) & wanted
        if not bound:
            continue
        found.add(earlier.lineno)
        wanted = (wanted - bound) | _reads(earlier)
    return found
