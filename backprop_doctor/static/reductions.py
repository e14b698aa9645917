"""Reductions in the user's source (`np.sum(x)`, `x.max(axis=0)`, builtin `sum`), and their rewrite.

`Reduction` is the one record of a reduction call for the whole project. Two
finders fill it: `reductions` here (any reduction on lines that ran, for the
batch-axis and loss checks: does it mix the samples of a batch?) and
`softmax.softmax_diagnosis` (the max and sum of a softmax, judged per row).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from backprop_doctor.static.files import source_tree
from backprop_doctor.static.text import char_column
from backprop_doctor.static.tree import walk


REDUCERS = frozenset(
    {"sum", "nansum", "mean", "nanmean", "max", "amax", "nanmax", "min", "amin", "nanmin"}
    | {"std", "var", "prod", "median", "logsumexp"}
)
_NUMPY_NAMES = frozenset({"np", "numpy", "onp", "cp", "jnp"})


@dataclass(frozen=True)
class Reduction:
    """A reduction call such as `np.sum(exp_x)` or `x.max(axis=0)` in the user's source.

    Positions are 1-based lines and 0-based character columns. The fields after
    `axis_known` are filled by the finder that knows them: `file`, `axis_span`,
    `has_args`, `has_keepdims` by `reductions`; `function` and the verdict
    (`keepdims`, `fixed`, `per_row`, `is_wrong`, ...) by `softmax_diagnosis`,
    where `fixed` is the same call rewritten to reduce per row with
    `keepdims=True` (equal to `source` when it already does) and `per_row` is
    None when that cannot be told (an axis that is not a literal, or code only
    1-D input reaches).
    """

    line: int
    col: int
    end_line: int
    end_col: int
    source: str  # the call as written: "np.sum(exp_x)"
    kind: str  # "sum", "max", "mean"... (a softmax's are "max" or "sum")
    axis: Any  # None when absent or None (every axis), else the literal: 0, -1, (1, 2)
    axis_known: bool = True  # False when the axis is not a literal
    file: str = ""
    function: str = ""  # qualname of the softmax, e.g. "SoftmaxWithLoss.softmax"
    axis_span: tuple[int, int] | None = None  # character offsets of the axis argument on `line`
    has_args: bool = True
    has_keepdims: bool = False
    keepdims: bool | None = None  # None when not a literal
    fixed: str = ""  # "np.sum(exp_x, axis=1, keepdims=True)"
    per_row: bool | None = None
    is_wrong: bool = False
    is_harmless: bool = False  # a global max shift next to per-row sums: harmless, do not flag it alone
    transposed: bool = False  # the reduced array is the transpose of the input, so axis 0 is per row
    one_d_only: bool = False  # inside a branch only 1-D input reaches (`if x.ndim == 1:`)
    reason: str = ""

    @property
    def over_batch(self) -> bool:
        """True when it reduces over axis 0, the batch (no axis means every axis)."""
        if not self.axis_known:
            return False
        if self.axis is None:
            return True
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        return 0 in axes

    def describe(self) -> str:
        if self.axis is None:
            return f"`{self.source}` reduces over the whole batch (no axis)"
        return f"`{self.source}` reduces over axis 0, the batch axis"


def _literal(node: ast.expr) -> tuple[Any, bool]:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None, False
    return (tuple(value) if isinstance(value, list) else value), True


def _reduction(node: ast.Call, file: str, lines: list[str]) -> Reduction | None:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in REDUCERS:
        function_form = isinstance(func.value, ast.Name) and func.value.id in _NUMPY_NAMES
        name = func.attr
    elif isinstance(func, ast.Name) and func.id == "sum":
        function_form, name = True, "sum"  # builtin sum iterates over the rows: axis 0
    else:
        return None
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    positional = 1 if function_form else 0
    axis_node = keywords.get("axis")
    if axis_node is None and len(node.args) > positional:
        axis_node = node.args[positional]
    known = True
    if isinstance(func, ast.Name):
        axis: Any = 0
    elif axis_node is None:
        axis = None
    else:
        axis, known = _literal(axis_node)
    line, end_line = node.lineno, node.end_lineno or node.lineno
    first, last = lines[line - 1], lines[end_line - 1]
    col, end_col = char_column(first, node.col_offset), char_column(last, node.end_col_offset or 0)
    text = first[col:end_col] if line == end_line else ast.unparse(node)
    axis_span = None
    if axis_node is not None and axis_node.lineno == axis_node.end_lineno == line:
        axis_span = (char_column(first, axis_node.col_offset), char_column(first, axis_node.end_col_offset or 0))
    return Reduction(
        line=line, col=col, end_line=end_line, end_col=end_col, source=text, kind=name, axis=axis,
        axis_known=known, file=file, axis_span=axis_span,
        has_args=bool(node.args or node.keywords), has_keepdims="keepdims" in keywords,
    )  # fmt: skip


def _simple_statements(tree: ast.AST) -> Iterator[ast.stmt]:
    for node in walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)
        ):
            yield node


def reductions(file: str, ran: set[int] | None = None, span: tuple[int, int] | None = None) -> list[Reduction]:
    """The reductions in `file` whose statement ran (`ran`: line numbers), within `span` (first, last line),
    but for a parameter's gradient kept and not read again (`_kept_gradients`)."""
    lines, tree = source_tree(file)
    if tree is None:
        return []
    kept = _kept_gradients(tree)
    found = []
    for statement in _simple_statements(tree):
        if ran is not None and statement.lineno not in ran:
            continue
        if statement.lineno in kept:
            continue
        if span is not None and not span[0] <= statement.lineno <= span[1]:
            continue
        for node in walk(statement):
            if isinstance(node, ast.Call):
                r = _reduction(node, file, lines)
                if r is not None:
                    found.append(r)
    return sorted(set(found), key=lambda r: (r.line, r.col))


# `self.dW`, `self.dgamma`, `self.db2`, `self.dweights`, `self.grad_weight`: a parameter's gradient kept on the layer
_KEPT_GRADIENT = re.compile(r"d[A-Z]\w*|d(?:w|b|gamma|beta|weights?|bias(?:es)?|params?)\d*|grad_?\w*")


def _kept_gradients(tree: ast.AST) -> set[int]:
    """Lines that keep a parameter's gradient on the layer (`self.dgamma = np.sum(dy * self.xhat, axis=0)`)
    and that nothing after them in their function reads: a sum over the batch there is the gradient's
    own, never what mixes the samples of dx (a layer norm's backward that also sums `dxhat` over axis 0
    is wrong there, and only there)."""
    kept: set[int] = set()
    for function in (n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        statements = list(_simple_statements(function))
        for stmt in statements:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
            names = [ast.unparse(t) for t in targets]
            if not names or not all(_is_kept_gradient(t) for t in targets):
                continue
            read = {ast.unparse(n) for later in statements if later.lineno > stmt.lineno for n in walk(later) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
            if not read & set(names):
                kept.add(stmt.lineno)
    return kept


def _is_kept_gradient(target: ast.expr) -> bool:
    return (
        isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
        and _KEPT_GRADIENT.fullmatch(target.attr) is not None
    )  # fmt: skip


def with_axis(found: Iterable[Reduction], axis: str = "-1") -> list[str]:
    """The source lines holding the reductions `found`, each rewritten to reduce over `axis` with keepdims=True.

    Returns those lines, dedented together, as a fix to show. Reductions that
    span several lines are left out.
    """
    by_line: dict[tuple[str, int], list[Reduction]] = {}
    for r in found:
        if r.line == r.end_line:
            by_line.setdefault((r.file, r.line), []).append(r)
    fixed = []
    for (file, number), group in sorted(by_line.items()):
        text = source_tree(file)[0][number - 1]
        edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on the original line
        for r in group:
            edits += _axis_edits(r, axis)
        for start, end, replacement in sorted(set(edits), reverse=True):  # right to left: offsets stay valid
            text = text[:start] + replacement + text[end:]
        fixed.append(text)
    indent = min((len(s) - len(s.lstrip()) for s in fixed if s.strip()), default=0)
    return [s[indent:] for s in fixed]


def _axis_edits(r: Reduction, axis: str) -> list[tuple[int, int, str]]:
    """Insertions and replacements that make the reduction `r` run over `axis` with keepdims=True."""
    keepdims = "" if r.has_keepdims else ", keepdims=True"
    close = r.end_col - 1  # the closing parenthesis
    if r.source.startswith("sum("):  # builtin sum: rewrite as np.sum
        return [(r.col, r.col + len("sum("), "np.sum("), (close, close, f", axis={axis}{keepdims}")]
    if r.axis_span is not None:
        edits = [(r.axis_span[0], r.axis_span[1], axis)]
        return edits + [(close, close, keepdims)] if keepdims else edits
    return [(close, close, (", " if r.has_args else "") + f"axis={axis}{keepdims}")]


@dataclass(frozen=True)
class SummedBias:
    """`s = a_slice * W + b` then `np.sum(s)`: a bias added to every term of a sum, so the sum holds it
    as many times as it has terms."""

    line: int  # the statement that adds the bias
    text: str  # its source
    fix: str  # `np.sum(a_slice * W) + b`


def bias_inside_sum(tree: ast.AST | None, bias: str) -> SummedBias | None:
    """A function that adds `bias` inside a sum it returns (`return np.sum(a * W + b)`, or
    `s = a * W + b; return np.sum(s)`), as a convolution's single step can be written by mistake."""
    for function in (n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))) if tree is not None else ():
        added: dict[str, ast.Assign] = {}
        for node in walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if (terms := _without(node.value, bias)) is not None:
                    added[node.targets[0].id] = node
            if not (isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] == "sum" and node.args and not node.keywords):
                continue
            inside = node.args[0]
            if (terms := _without(inside, bias)) is not None:
                return SummedBias(node.lineno, ast.unparse(inside), f"np.sum({ast.unparse(terms)}) + {bias}")
            if isinstance(inside, ast.Name) and inside.id in added:
                made = added[inside.id]
                rest = _without(made.value, bias)
                return SummedBias(made.lineno, ast.unparse(made), f"np.sum({ast.unparse(rest)}) + {bias}")
    return None


def _without(value: ast.expr, bias: str) -> ast.expr | None:
    """`a * W` of `a * W + b` (the bias the last term added, to a product): None for any other value."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and isinstance(value.right, ast.Name) and value.right.id == bias:
        left = value.left
        if isinstance(left, ast.BinOp) and isinstance(left.op, (ast.Mult, ast.MatMult)):
            return left
        if isinstance(left, ast.Call) and ast.unparse(left.func).rpartition(".")[2] in ("multiply", "dot", "matmul"):
            return left  # `np.multiply(a_slice_prev, W) + b`
    return None


@dataclass(frozen=True)
class EntryMean:
    """A loss that is a mean over every entry of an element-wise expression (`np.mean(err ** 2)`):
    over rows × outputs, where a gradient divided by the rows alone is as many times too large as
    there are outputs."""

    line: int  # the statement holding the mean
    text: str  # the mean as written, `np.mean(err ** 2)`
    argument: str  # what it averages, `err ** 2`
    called: str | None = None  # the step's loss as written when a function of the file computes the mean (`mse(out, T)`)


_ELEMENTWISE_CALLS = frozenset({"square", "abs", "absolute", "fabs"})


def _mean_of_everything(node: ast.expr) -> ast.expr | None:
    """The argument of `np.mean(x)` / `x.mean()` / `np.average(x)` over every entry (no axis, no
    weights), looked for under a sign and constant factors (`0.5 * np.mean(...)`); None otherwise."""
    while True:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            node = node.operand
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)) and isinstance(node.right, ast.Constant):
            node = node.left
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and isinstance(node.left, ast.Constant):
            node = node.right
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" and len(node.args) == 1 and not node.keywords:
            node = node.args[0]  # `float(((out - y) ** 2).mean())`: the same number as a Python float
        else:
            break
    if not isinstance(node, ast.Call) or node.keywords or not isinstance(node.func, ast.Attribute):
        return None
    func = node.func
    if func.attr in ("mean", "average") and isinstance(func.value, ast.Name) and func.value.id in _NUMPY_NAMES and len(node.args) == 1:
        return node.args[0]
    if func.attr == "mean" and not node.args and not (isinstance(func.value, ast.Name) and func.value.id in _NUMPY_NAMES):
        return func.value
    return None


def mean_loss(tree: ast.Module | None, expression: str) -> bool:
    """Whether a loss expression is a mean over every entry (`-np.mean(np.sum(T * np.log(P), axis=1))`,
    `0.5 * ((p - y) ** 2).mean()`), written in it or in the one function of the file it calls that returns
    one (`cost = bce(out, y)` with `return -np.mean(...)`), under a sign and constant factors."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return False
    if _mean_of_everything(node) is not None:
        return True
    if tree is None or not isinstance(node, ast.Call):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
    defined = [
        n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
    ]  # fmt: skip
    if len(defined) != 1:
        return False
    returns = [n for n in ast.walk(defined[0]) if isinstance(n, ast.Return) and n.value is not None]
    return len(returns) == 1 and _mean_of_everything(returns[0].value) is not None


def _elementwise(node: ast.expr) -> bool:
    """An expression that keeps its operands' entries apart: arithmetic and powers, `np.square`,
    `np.abs`; no product of matrices, no reduction, no logarithm (a likelihood's mean over classes is
    a cross-entropy of its own, left alone)."""
    for part in ast.walk(node):
        if isinstance(part, ast.BinOp) and isinstance(part.op, ast.MatMult):
            return False
        if isinstance(part, ast.Call):
            name = part.func.attr if isinstance(part.func, ast.Attribute) else part.func.id if isinstance(part.func, ast.Name) else ""
            if name not in _ELEMENTWISE_CALLS or part.keywords:
                return False
    return True


def loss_entry_mean(tree: ast.Module | None, expression: str, line: int) -> EntryMean | None:
    """The step's loss (`expression`, at `line`) as an `EntryMean` when it is a mean over every entry of an
    element-wise expression: written in it (`np.mean((out - y) ** 2)`), or returned by the one function or
    method of the file it calls (`model.mse(x, y)` with `return np.mean((self.forward(x) - y) ** 2)`, the
    network's own output read through a call of the file's). Wherever the loss is computed: in the pass,
    or only reported now and then."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    ours = {n.name for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))} if tree is not None else set()
    argument = _mean_of_everything(node)
    if argument is not None:
        return EntryMean(line, ast.unparse(node), ast.unparse(argument)) if _elementwise_of(argument, ours) else None
    if tree is None or not isinstance(node, ast.Call):
        return None
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
    defined = [n for n in walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if len(defined) != 1:
        return None
    returns = [n for n in ast.walk(defined[0]) if isinstance(n, ast.Return) and n.value is not None]
    argument = _mean_of_everything(returns[0].value) if len(returns) == 1 else None
    if argument is None or not _elementwise_of(argument, ours):
        return None
    return EntryMean(line, ast.unparse(returns[0].value), ast.unparse(argument), ast.unparse(node))


def _elementwise_of(node: ast.expr, ours: set[str]) -> bool:
    """`_elementwise`, a call of one of the file's own functions (`self.forward(x)`: the output) read as a value."""
    calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
    called = {(c.func.attr if isinstance(c.func, ast.Attribute) else c.func.id if isinstance(c.func, ast.Name) else "") for c in calls}
    if called & ours:
        node = _CallsAsNames(ours).visit(ast.parse(ast.unparse(node), mode="eval")).body
    return _elementwise(node)


class _CallsAsNames(ast.NodeTransformer):
    def __init__(self, ours: set[str]) -> None:
        self.ours = ours

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
        return ast.Name(id="_output", ctx=ast.Load()) if name in self.ours else self.generic_visit(node)


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def mean_over_entries(tree: ast.Module | None, line: int, forward: str, loss_line: int | None = None) -> EntryMean | None:
    """The loss a gradient at `line` is taken of, when it is a mean over every entry of an element-wise
    expression computed from `forward` (the output the gradient is of): `loss = np.mean(err ** 2)` with
    `err = Yhat - Y`. Looked for in the function holding `line` (an assignment or a return), at
    `loss_line` (the step's loss), or in the one function of the file the step's loss calls for it
    (`loss = mse(out, T)` with `return np.mean((p - t) ** 2)`)."""
    from backprop_doctor.static.steps import _scope_of
    from backprop_doctor.static.writes import made_from

    if tree is None:
        return None
    scope = _scope_of(tree, line)
    assignments = [n for n in walk(scope) if isinstance(n, (ast.Assign, ast.AugAssign))]
    candidates: list[ast.stmt] = []
    if scope is not tree:
        candidates += [n for n in walk(scope) if isinstance(n, (ast.Assign, ast.Return)) and n.value is not None]
    if loss_line is not None:
        candidates += [n for n in walk(tree) if isinstance(n, ast.Assign) and n.lineno == loss_line]
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for stmt in candidates:
        value = stmt.value
        if isinstance(value, ast.Tuple) and value.elts:  # `return np.mean(err ** 2), grads`
            value = value.elts[0]
        mean, argument, reads, among, called = value, _mean_of_everything(value), set(), assignments, None
        if argument is not None:
            reads = _names_in(argument)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in defined:
            returns = [r for r in walk(defined[value.func.id]) if isinstance(r, ast.Return) and r.value is not None]
            mean = returns[0].value if len(returns) == 1 else None
            argument = _mean_of_everything(mean) if mean is not None else None
            reads = _names_in(value)  # the loss's own arguments, in the step's names
            among = [n for n in walk(_scope_of(tree, stmt.lineno)) if isinstance(n, (ast.Assign, ast.AugAssign))]
            called = ast.unparse(value)
        if argument is None or mean is None or not _elementwise(argument) or forward not in made_from(among, reads):
            continue
        return EntryMean(stmt.lineno, ast.unparse(mean), ast.unparse(argument), called)
    return None
