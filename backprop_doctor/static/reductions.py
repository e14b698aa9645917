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
