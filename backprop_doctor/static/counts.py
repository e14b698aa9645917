"""A count in a normalisation's backward that counts other axes than its forward pass averages over.

    def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=(0, 2, 3), keepdims=True)         # N * H * W values per channel
        ...

    def spatial_batchnorm_backward(dout, cache):
        N, C, H, W = dout.shape
        m = N                                              # N * H * W
        dx = inv_std / m * (m * dxhat - dxhat.sum(axis=(0, 2, 3), keepdims=True) - ...)

The gradient check finds the input gradient wrong at the statement that uses the count, which is
written right for the count it is given. `miscounted` reads the count a wrong statement uses (a name
bound once before it to a product of the input's sizes, `N * H * W` of `N, C, H, W = dout.shape`, or
`x.shape[0]`) and the axes its forward pass averages over (`mean`, `var`, `std` with a literal
`axis=`, the backward reducing over them too), and names the count's statement when the two differ,
with the count the forward takes. Nothing here runs user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef
_AVERAGING = frozenset({"mean", "var", "std"})  # a forward's statistics: a count divides by their number of values
_REDUCING = frozenset({"sum", "mean", "var", "std"})


@dataclass(frozen=True)
class Miscount:
    line: int  # `m = N`
    name: str  # `m`
    text: str  # the statement as written
    axes: tuple[int, ...]  # the axes it counts: (0,)
    forward_axes: tuple[int, ...]  # the axes the forward reduces over: (0, 2, 3)
    forward: str  # the forward function's name
    fix: str | None  # `m = N * H * W`, when the sizes of those axes have names


def miscounted(backward: Function, forward: Function, line: int) -> Miscount | None:
    """The count the statement at `line` of `backward` reads whose axes are not the ones every mean (`var`,
    `std`) of `forward` runs over (one set of literal axes), in a backward that itself reduces over those axes
    (a normalisation's: `dxhat.sum(axis=(0, 2, 3))`); None when it reads none, or they agree."""
    at = next((s for s in backward.body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    if at is None or isinstance(at, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    sizes, rank = _unpacked_sizes(backward)
    reduced = _reduced_axes(forward, rank or _unpacked_sizes(forward)[1], _AVERAGING)
    if reduced is None or reduced not in _axis_sets(backward, rank, _REDUCING):
        return None  # not a normalisation's backward (a loss's `dx /= N` beside a softmax's sum over classes)
    read = {n.id for n in walk(at) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in sorted(read):
        bound = [s for s in walk(backward) if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and name in _bound_names(s)]
        if len(bound) != 1 or not isinstance(bound[0], ast.Assign) or bound[0].lineno >= at.lineno or bound[0] is at:
            continue
        axes = _counted_axes(bound[0].value, sizes)
        if axes is None or set(axes) == set(reduced):
            continue
        names = {axis: size for size, axis in sizes.items()}
        fix = f"{name} = {' * '.join(names[a] for a in reduced)}" if all(a in names for a in reduced) else None
        return Miscount(bound[0].lineno, name, ast.unparse(bound[0]), axes, reduced, forward.name, fix)
    return None


def _bound_names(stmt: ast.stmt) -> set[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
    return {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _unpacked_sizes(function: Function) -> tuple[dict[str, int], int | None]:
    """({size name: its axis}, the rank) of the one `N, C, H, W = X.shape` of `function`'s body."""
    found = [
        s for s in function.body if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Tuple)
        and isinstance(s.value, ast.Attribute) and s.value.attr == "shape"
    ]  # fmt: skip
    if len(found) != 1:
        return {}, None
    elements = found[0].targets[0].elts  # type: ignore[attr-defined]
    return {e.id: i for i, e in enumerate(elements) if isinstance(e, ast.Name) and e.id != "_"}, len(elements)


def _counted_axes(value: ast.expr, sizes: dict[str, int]) -> tuple[int, ...] | None:
    """The axes a product of sizes counts (`N * H * W`, `x.shape[0]`, `float(N)`), each once; None for anything else."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("float", "int") and len(value.args) == 1:
        return _counted_axes(value.args[0], sizes)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        left, right = _counted_axes(value.left, sizes), _counted_axes(value.right, sizes)
        if left is None or right is None or set(left) & set(right):
            return None
        return left + right
    if isinstance(value, ast.Name) and value.id in sizes:
        return (sizes[value.id],)
    if (
        isinstance(value, ast.Subscript) and isinstance(value.value, ast.Attribute) and value.value.attr == "shape"
        and isinstance(value.slice, ast.Constant) and isinstance(value.slice.value, int) and value.slice.value >= 0
    ):  # fmt: skip
        return (value.slice.value,)
    return None


def _reduced_axes(function: Function, rank: int | None, reducing: frozenset[str]) -> tuple[int, ...] | None:
    """The one set of literal axes every reduction (`reducing`: `mean`, `var` ...) of `function` with an `axis=`
    runs over; None when there are none, two sets, or one not read."""
    found = set(_axis_sets(function, rank, reducing))
    return found.pop() if len(found) == 1 and None not in found else None


def _axis_sets(function: Function, rank: int | None, reducing: frozenset[str]) -> list[tuple[int, ...] | None]:
    """The axes of each reduction (`reducing`) of `function` with an `axis=`, sorted (negative axes read with
    `rank`); None for one whose axes are not literal integers."""
    found: list[tuple[int, ...] | None] = []
    for call in (n for n in walk(function) if isinstance(n, ast.Call)):
        if not (isinstance(call.func, ast.Attribute) and call.func.attr in reducing):
            continue
        axis = next((k.value for k in call.keywords if k.arg == "axis"), None)
        if axis is None:
            continue
        items = axis.elts if isinstance(axis, ast.Tuple) else [axis]
        values = [i.value if isinstance(i, ast.Constant) else -i.operand.value if isinstance(i, ast.UnaryOp) and isinstance(i.op, ast.USub) and isinstance(i.operand, ast.Constant) else None for i in items]
        if any(not isinstance(v, int) or isinstance(v, bool) for v in values) or (rank is None and any(v < 0 for v in values)):  # type: ignore[operator]
            found.append(None)
            continue
        found.append(tuple(sorted({v if v >= 0 else v + rank for v in values})))  # type: ignore[operator]
    return found


def forward_twin(tree: ast.Module, backward: Function) -> Function | None:
    """The forward half of `backward` beside it (a method of the same class, or a function of the module):
    `spatial_batchnorm_forward` of `spatial_batchnorm_backward`, `forward` of `backward`."""
    from backprop_doctor.loading.siblings import forward_names

    for scope in walk(tree):
        body = getattr(scope, "body", None)
        if not isinstance(scope, (ast.Module, ast.ClassDef)) or not isinstance(body, list) or backward not in body:
            continue
        defined = {s.name: s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        return next((defined[n] for n in forward_names(backward.name) if n in defined and defined[n] is not backward), None)
    return None
