"""A dropout mask the forward pass applies and the backward pass leaves out.

`mask = (np.random.rand(*h.shape) < p) / p`, then `hd = h * mask`: the next layer reads `hd`, so the
gradient that comes back through its weights (`ds @ W2.T`) is the gradient of `hd`, and the gradient
of `h` is that times `mask`. A backward that never reads `mask` again has left it out.
`left_out_mask` finds such a mask for the forward value a wrong adjoint belongs to; nothing here runs
user code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backprop_doctor.static.derivatives import rescaling
from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class LeftOutMask:
    """`hd = h * mask` (line 13), `mask` drawn at line 12 and read nowhere after the loss."""

    mask: str
    drawn: int  # where the mask is drawn
    applied: str  # "hd"
    applied_line: int


def left_out_mask(prefix: tuple[ast.stmt, ...], forward: str, loss_line: int | None) -> LeftOutMask | None:
    """A random mask the pass multiplies `forward` by (`hd = h * mask`) and never reads again after the
    loss line (the backward part of the pass)."""
    drawn = {
        t.id: s.lineno for s in prefix if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)
        and any(isinstance(n, ast.Attribute) and n.attr in ("rand", "random", "binomial", "uniform", "choice") for n in walk(s.value))
    }  # fmt: skip
    for stmt in prefix:
        value = getattr(stmt, "value", None)
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult)):
            continue
        sides = [s.id for s in (value.left, value.right) if isinstance(s, ast.Name)]
        if len(sides) != 2 or forward not in sides:
            continue
        mask = sides[1] if sides[0] == forward else sides[0]
        if mask not in drawn:
            continue
        after = loss_line if loss_line is not None else stmt.lineno
        read_later = any(
            isinstance(n, ast.Name) and n.id == mask and isinstance(n.ctx, ast.Load)
            for s in prefix if s.lineno > after for n in walk(s)
        )  # fmt: skip
        if not read_later:
            return LeftOutMask(mask, drawn[mask], stmt.targets[0].id, stmt.lineno)
    return None


def self_masked(statement: ast.stmt) -> str | None:
    """The name a backward statement masks by its own sign, as a ReLU's derivative would by the ReLU's
    input (`dA[dA <= 0] = 0`, `dh *= dh > 0`, `dh = dh * (dh > 0)`, `dh = np.maximum(dh, 0)`): the
    chain rule never zeroes a gradient where the gradient itself is negative. None for anything else."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AugAssign):
        target, value = statement.target, statement.value
    else:
        return None
    subscripted = isinstance(target, ast.Subscript)
    root = target.value if subscripted else target
    if not isinstance(root, ast.Name):
        return None
    name = root.id

    def against_zero(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name) and node.left.id == name
            and isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value == 0
        )  # fmt: skip

    if subscripted:  # `dA[dA <= 0] = 0`
        zero = isinstance(value, ast.Constant) and value.value == 0
        return name if zero and against_zero(target.slice) and isinstance(target.slice.ops[0], (ast.LtE, ast.Lt)) else None
    if any(against_zero(n) and isinstance(n.ops[0], (ast.Gt, ast.GtE)) for n in walk(value)):
        return name  # `dh *= dh > 0`, `dh = dh * (dh > 0)`, `np.where(dh > 0, dh, 0)`
    if isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] == "maximum" and len(value.args) == 2:
        names = {a.id for a in value.args if isinstance(a, ast.Name)}
        zeros = [a for a in value.args if isinstance(a, ast.Constant) and a.value == 0]
        return name if names == {name} and zeros else None  # `dh = np.maximum(dh, 0)`
    return None


@dataclass(frozen=True)
class ScaleWithoutMask:
    """`dh2 = dh2 / keep` (the backward's statement) beside the forward's `h2 = h2 * m2 / keep` (line 30):
    the same scale, the mask `m2` left out."""

    forward_line: int  # the forward's statement that applies the mask and the scale
    forward_text: str  # `h2 = h2 * m2 / keep`
    masks: tuple[str, ...]  # `m2`: the factors of that product the backward's statement never reads
    fix: str  # `dh2 = dh2 * m2 / keep`
    statement: str  # the backward's statement as written, `dh2 = dh2 / keep`


def scale_without_mask(tree: ast.Module | None, name: str, line: int, forward: str) -> ScaleWithoutMask | None:
    """The backward statement at `line` only rescales `name`, the gradient of `forward` (`dh2 = dh2 / keep`,
    `dh2 /= keep`), by the scale a forward statement applies to `forward` together with a random mask
    (`h2 = h2 * m2 / keep`, the mask drawn by a statement of the file): inverted dropout's scale kept, its
    mask left out, where the gradient coming back must be multiplied by both. None for anything else."""
    if tree is None:
        return None
    statement = next((s for s in walk(tree) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno == line), None)
    scale = rescaling(statement, name) if statement is not None else None
    if scale is None:
        return None
    random = _randomly_drawn(tree)
    read = {n.id for n in walk(statement) if isinstance(n, ast.Name)}
    for stmt in walk(tree):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)) or stmt.lineno == line:
            continue
        if stmt.targets[0].id != forward:
            continue
        factors = _product(stmt.value)
        if factors is None:
            continue
        texts = [(kind, ast.unparse(f)) for kind, f in factors]
        if ("*", forward) not in texts or scale not in texts:
            continue
        others = [(kind, f) for (kind, f), (_, text) in zip(factors, texts) if (kind, text) not in (("*", forward), scale)]
        roots = [_root(f) for kind, f in others if kind == "*"]
        if not others or any(r is None or r not in random or r in read for r in roots) or len(roots) != len(others):
            continue
        fixed = ast.unparse(_renamed(stmt.value, forward, name))
        return ScaleWithoutMask(stmt.lineno, ast.unparse(stmt), tuple(ast.unparse(f) for _, f in others), f"{name} = {fixed}", ast.unparse(statement))
    return None


def _product(node: ast.expr) -> list[tuple[str, ast.expr]] | None:
    """The factors of a chain of products and divisions (`h2 * m2 / keep`: ("*", h2), ("*", m2), ("/", keep)); None
    for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left = _product(node.left) or [("*", node.left)]
        return [*left, ("/" if isinstance(node.op, ast.Div) else "*", node.right)]
    return None


def _root(node: ast.expr) -> str | None:
    """`m2` of `m2`, `masks` of `masks[i]`, `self.mask` of `self.mask`."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute)) else None


_DRAWS = ("rand", "random", "binomial", "uniform", "random_sample")


def _randomly_drawn(tree: ast.Module) -> set[str]:
    """The names (and attributes) a statement of the file binds to a random draw (`m2 = (np.random.rand(*h2.shape) < keep) / keep`,
    `masks = [... np.random.rand(n, count) ...]`), or to what a function of the file returns that draws
    (`masks = self.draw(len(pick))` beside `def draw(self, count): return [... np.random.rand(n, count) ...]`)."""

    def draws(node: ast.AST | None) -> bool:
        return node is not None and any(isinstance(n, ast.Attribute) and n.attr in _DRAWS for n in walk(node))

    drawing = {
        f.name for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
        and any(isinstance(r, ast.Return) and draws(r.value) for r in walk(f))
    }  # fmt: skip
    drawn: set[str] = set()
    for stmt in walk(tree):
        if not isinstance(stmt, ast.Assign):
            continue
        called = stmt.value.func if isinstance(stmt.value, ast.Call) else None
        name = called.id if isinstance(called, ast.Name) else called.attr if isinstance(called, ast.Attribute) else None
        if draws(stmt.value) or name in drawing:
            drawn.update(ast.unparse(t) for t in stmt.targets if isinstance(t, (ast.Name, ast.Attribute)))
    return drawn


def scale_kept_mask_dropped(tree: ast.Module | None, line: int) -> ScaleWithoutMask | None:
    """The backward statement at `line` multiplies or divides by the scale a forward statement applies together
    with a random mask (`d = (W.T @ d) / self.keep_prob * s * (1 - s)` beside `a = a * masks[i] / self.keep_prob`)
    and reads nothing of that mask: the scale kept, the mask left out. `fix` is empty: the statement does more
    than rescale. None for anything else."""
    if tree is None:
        return None
    statement = next((s for s in walk(tree) if isinstance(s, (ast.Assign, ast.AugAssign)) and s.lineno == line), None)
    factors = _product(statement.value) if statement is not None else None
    if not factors:
        return None
    scales = {(kind, ast.unparse(f)) for kind, f in factors}
    read = {ast.unparse(n) for n in walk(statement) if isinstance(n, (ast.Name, ast.Attribute))}
    random = _randomly_drawn(tree)
    found = []
    for stmt in walk(tree):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)) or stmt.lineno == line:
            continue
        forward = _product(stmt.value)
        if forward is None:
            continue
        target = stmt.targets[0].id
        masks = [f for kind, f in forward if kind == "*" and _root(f) in random]
        kept = [(kind, ast.unparse(f)) for kind, f in forward if (kind, ast.unparse(f)) in scales and ast.unparse(f) != target]
        kept = [(kind, text) for kind, text in kept if not any(text == ast.unparse(m) for m in masks)]
        if masks and kept and ("*", target) in [(k, ast.unparse(f)) for k, f in forward]:
            found.append((stmt, masks))
    if not found or any(_root(m) in read for _, masks in found for m in masks):
        return None  # a mask applied with that scale is read: the statement has one (`dh2 * m2 / keep`)
    stmt, masks = found[0]
    return ScaleWithoutMask(stmt.lineno, ast.unparse(stmt), tuple(ast.unparse(m) for m in masks), "", ast.unparse(statement))


def _renamed(node: ast.expr, old: str, new: str) -> ast.expr:
    """A copy of `node` with the name `old` read as `new`."""
    import copy

    copied = copy.deepcopy(node)
    for n in ast.walk(copied):
        if isinstance(n, ast.Name) and n.id == old:
            n.id = new
    return copied


def mask_never_read(tree: ast.Module | None, line: int, forward: str) -> LeftOutMask | None:
    """A random mask a statement of the file multiplies `forward` by (`h2 = h2 * m2`, `m2` drawn by
    `m2 = (np.random.rand(*h2.shape) < keep) / keep`) that the function holding the backward statement at
    `line` never reads (`X, z1, h1, m1, z2, h2, m2, probs = cache` unpacks it, nothing multiplies by it):
    the forward and backward written as functions, the mask handed over in a cache. None otherwise."""
    if tree is None:
        return None
    holder = next(
        (f for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.lineno < line <= (f.end_lineno or f.lineno)),
        None,
    )
    if holder is None:
        return None
    random = _randomly_drawn(tree)
    loaded = {ast.unparse(n) for n in walk(holder) if isinstance(n, (ast.Name, ast.Attribute)) and isinstance(n.ctx, ast.Load)}
    for stmt in walk(tree):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        if holder.lineno <= stmt.lineno <= (holder.end_lineno or holder.lineno):
            continue
        factors = _product(stmt.value)
        if factors is None or ("*", forward) not in [(kind, ast.unparse(f)) for kind, f in factors]:
            continue
        masks = [_root(f) for kind, f in factors if kind == "*" and ast.unparse(f) != forward]
        masks = [m for m in masks if m is not None and m in random and m not in loaded]
        if masks:
            drawn = min(s.lineno for s in walk(tree) if isinstance(s, ast.Assign) and any(ast.unparse(t) == masks[0] for t in s.targets))
            return LeftOutMask(masks[0], drawn, stmt.targets[0].id, stmt.lineno)
    return None
