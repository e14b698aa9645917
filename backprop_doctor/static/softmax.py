"""The max and sum reductions of a softmax, whether each works per row, and their rewrites."""

from __future__ import annotations

import ast
import copy
import operator
import textwrap
from dataclasses import dataclass, field
from typing import Any

from backprop_doctor.static.calls import _own_expressions, _root_name, _target_names
from backprop_doctor.static.definitions import _child_blocks, _qualnames, _walk_defs
from backprop_doctor.static.literals import _NotLiteral, _evaluate
from backprop_doctor.static.reductions import Reduction
from backprop_doctor.static.text import _Text, _columns, _show, _source
from backprop_doctor.static.tree import DEFS as _DEFS, FunctionNode, walk, children
from backprop_doctor.static.writes import _is_module


_MAX_FUNCTIONS = {"max", "amax", "nanmax"}
_SUM_FUNCTIONS = {"sum", "nansum"}


@dataclass(frozen=True)
class SoftmaxDiagnosis:
    """What is wrong with one softmax and the whole function rewritten to reduce per row."""

    wrong: list[Reduction]
    harmless: list[Reduction]
    fixed_source: str  # the function, dedented, with the wrong reductions and a global max rewritten
    function: str = ""
    line: int = 0  # the def line
    correct: list[Reduction] = field(default_factory=list)
    unknown: list[Reduction] = field(default_factory=list)  # the axis is not a literal
    axis: int = -1  # the axis the rewrites use (0 for reductions of a transposed input)
    note: str = ""  # why that axis

    @property
    def ok(self) -> bool:
        return not self.wrong

    @property
    def reductions(self) -> list[Reduction]:
        everything = self.wrong + self.harmless + self.correct + self.unknown
        return sorted(everything, key=lambda r: (r.line, r.col))


@dataclass
class _Candidate:
    """A reduction found in a softmax, with the flow facts that judge it."""

    node: ast.Call
    kind: str  # "max" or "sum"
    axis_index: int | None  # where a positional axis would sit in node.args
    transposed: bool  # it reduces the transpose of the input
    one_d: bool  # only 1-D input reaches it


@dataclass
class _SoftmaxState:
    transposed: set[str] = field(default_factory=set)
    exp: set[str] = field(default_factory=set)
    one_d: bool = False

    def copy(self) -> _SoftmaxState:
        return _SoftmaxState(set(self.transposed), set(self.exp), self.one_d)

    def become(self, other: _SoftmaxState) -> None:
        self.transposed, self.exp, self.one_d = other.transposed, other.exp, other.one_d


def _numpy_names(tree: ast.AST | None) -> tuple[set[str], dict[str, str]]:
    """(aliases of numpy itself, {local name: numpy function} imported with `from numpy import`)."""
    modules = {"np", "numpy"}
    functions: dict[str, str] = {}
    for node in walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    modules.add(alias.asname or "numpy")
        elif isinstance(node, ast.ImportFrom) and node.module == "numpy":
            for alias in node.names:
                functions[alias.asname or alias.name] = alias.name
    return modules, functions


def _reduction_shape(call: ast.Call, numpy: tuple[set[str], dict[str, str]]) -> tuple[str, ast.expr | None, int] | None:
    """(kind, reduced operand, index of a positional axis) when the call is a max or sum reduction."""
    modules, functions = numpy
    func = call.func

    def first_argument() -> ast.expr | None:
        if call.args and not isinstance(call.args[0], ast.Starred):
            return call.args[0]
        return next((k.value for k in call.keywords if k.arg == "a"), None)

    if isinstance(func, ast.Attribute):
        if func.attr == "logsumexp":
            return "sum", first_argument(), 1
        if isinstance(func.value, ast.Name) and func.value.id in modules:
            if func.attr in _MAX_FUNCTIONS:
                return "max", first_argument(), 1
            if func.attr in _SUM_FUNCTIONS:
                return "sum", first_argument(), 1
            return None
        if func.attr in ("max", "sum"):
            return func.attr, func.value, 0
        return None
    if isinstance(func, ast.Name):
        original = functions.get(func.id)
        if original in _MAX_FUNCTIONS:
            return "max", first_argument(), 1
        if original in _SUM_FUNCTIONS:
            return "sum", first_argument(), 1
        if func.id == "logsumexp":
            return "sum", first_argument(), 1
    return None


def _axis_of(call: ast.Call, axis_index: int) -> tuple[bool, Any, ast.expr | None]:
    """(known, value, node) of the call's axis argument."""
    node = call.args[axis_index] if len(call.args) > axis_index else None
    node = next((k.value for k in call.keywords if k.arg == "axis"), node)
    if node is None:
        return True, None, None
    try:
        value = _evaluate(node, _no_names)
    except _NotLiteral:
        return False, None, node
    if value is None or type(value) is int or (isinstance(value, tuple) and all(type(v) is int for v in value)):
        return True, value, node
    return False, None, node


def _no_names(name: str) -> Any:
    raise _NotLiteral(f"`{name}` is a name")


def _keepdims_of(call: ast.Call) -> bool | None:
    node = next((k.value for k in call.keywords if k.arg == "keepdims"), None)
    if node is None:
        return False
    try:
        value = _evaluate(node, _no_names)
    except _NotLiteral:
        return None
    return bool(value)


def _is_transposed(node: ast.AST | None, names: set[str]) -> bool:
    """Whether the array an expression computes is the transpose of the function's input."""
    if node is None:
        return False
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):
        return not _is_transposed(node.value, names) if node.attr == "T" else False
    if isinstance(node, (ast.UnaryOp,)):
        return _is_transposed(node.operand, names)
    if isinstance(node, ast.BinOp):
        return _is_transposed(node.left, names) or _is_transposed(node.right, names)
    if isinstance(node, ast.Subscript):
        return _is_transposed(node.value, names)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _MAX_FUNCTIONS | _SUM_FUNCTIONS | {"mean", "argmax", "logsumexp", "reshape", "ravel", "flatten"}:
            return False
        receiver_is_module = isinstance(func, ast.Attribute) and _is_module(func.value)
        if name == "transpose":
            if receiver_is_module:
                inner = node.args[0] if node.args else None
            else:
                inner = func.value if isinstance(func, ast.Attribute) else None
            return not _is_transposed(inner, names)
        if isinstance(func, ast.Attribute) and not receiver_is_module:
            return _is_transposed(func.value, names)  # x.copy(), x.astype(...)
        if node.args:
            return _is_transposed(node.args[0], names)  # np.exp(x), np.log(x)
    return False


def _mentions_exp(node: ast.AST | None, names: set[str]) -> bool:
    """Whether an expression holds exponentials: `np.exp(x)`, a name bound to one, `e * mask`...

    Stops at any other call (`np.log(e)`, `np.sum(e)`) and at indexing (`probs[range(N), y]`),
    so a loss summed from them is not taken for a normalisation.
    """
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.BinOp):
        return _mentions_exp(node.left, names) or _mentions_exp(node.right, names)
    if isinstance(node, ast.UnaryOp):
        return _mentions_exp(node.operand, names)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "exp":
            return True
        if name in ("copy", "astype") and isinstance(func, ast.Attribute):
            return _mentions_exp(func.value, names)
    return False


def _is_rank(node: ast.AST) -> bool:
    """`x.ndim`, `np.ndim(x)` or `len(x.shape)`."""
    if isinstance(node, ast.Attribute) and node.attr == "ndim":
        return True
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "ndim":
            return True
        if isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
            argument = node.args[0]
            return isinstance(argument, ast.Attribute) and argument.attr == "shape"
    return False


_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}  # fmt: skip


def _rank_branch(test: ast.AST) -> str | None:
    """"1d" when a test holds for 1-D input and not 2-D (`x.ndim == 1`), "2d" for the reverse."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return {"1d": "2d", "2d": "1d"}.get(_rank_branch(test.operand) or "")
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARE):
        return None
    compare = _COMPARE[type(test.ops[0])]
    left, right = test.left, test.comparators[0]
    if _is_rank(left) and isinstance(right, ast.Constant) and type(right.value) is int:
        holds = lambda n: compare(n, right.value)  # noqa: E731
    elif _is_rank(right) and isinstance(left, ast.Constant) and type(left.value) is int:
        holds = lambda n: compare(left.value, n)  # noqa: E731
    else:
        return None
    one, two = holds(1), holds(2)
    return "1d" if one and not two else "2d" if two and not one else None


def _softmax_candidates(function: FunctionNode, numpy: tuple[set[str], dict[str, str]]) -> list[_Candidate]:
    """The max and sum reductions of a softmax, with the flow facts each one needs."""
    found: list[_Candidate] = []
    parents = {id(child): parent for parent in walk(function) for child in children(parent)}

    def normalises(call: ast.Call, operand: ast.expr | None, state: _SoftmaxState) -> bool:
        if _mentions_exp(operand, state.exp):
            return True
        parent = parents.get(id(call))
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Div) and parent.right is call:
            return True
        if isinstance(parent, ast.AugAssign) and isinstance(parent.op, ast.Div):
            return True
        if isinstance(parent, ast.Call):
            func = parent.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            return name == "log"
        return False

    def visit(expression: ast.AST, state: _SoftmaxState):
        for node in walk(expression):
            if not isinstance(node, ast.Call):
                continue
            shape = _reduction_shape(node, numpy)
            if shape is None:
                continue
            kind, operand, axis_index = shape
            is_normalising = kind == "max" or normalises(node, operand, state)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "logsumexp":
                is_normalising = True
            if not is_normalising:
                continue
            transposed = _is_transposed(operand, state.transposed)
            found.append(_Candidate(node, kind, axis_index, transposed, state.one_d))

    def update(stmt: ast.stmt, state: _SoftmaxState):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            transposed = _is_transposed(stmt.value, state.transposed)
            exp = _mentions_exp(stmt.value, state.exp)
            for target in targets:
                if isinstance(target, ast.Name):
                    (state.transposed.add if transposed else state.transposed.discard)(target.id)
                    (state.exp.add if exp else state.exp.discard)(target.id)
                else:
                    for name in _target_names(target):
                        state.transposed.discard(name)
                        state.exp.discard(name)

    def visit_block(stmts: list[ast.stmt], state: _SoftmaxState) -> bool:
        for stmt in stmts:
            if isinstance(stmt, _DEFS):
                continue
            for expression in _own_expressions(stmt):
                visit(expression, state)
            if isinstance(stmt, ast.If):
                branch = _rank_branch(stmt.test)
                body, other = state.copy(), state.copy()
                if branch == "1d":
                    body.one_d = True
                elif branch == "2d":
                    other.one_d = True
                body_leaves = visit_block(stmt.body, body)
                other_leaves = visit_block(stmt.orelse, other)
                if body_leaves and other_leaves:
                    return True
                if body_leaves:
                    state.become(other)
                elif other_leaves:
                    state.become(body)
                else:
                    merged = _SoftmaxState(body.transposed | other.transposed, body.exp | other.exp)
                    merged.one_d = body.one_d and other.one_d
                    state.become(merged)
                continue
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                for name in _target_names(stmt.target):
                    state.transposed.discard(name)
                    state.exp.discard(name)
            for block in _child_blocks(stmt):
                visit_block(block, state)
            update(stmt, state)
            if isinstance(stmt, (ast.Return, ast.Raise)):
                return True
        return False

    visit_block(function.body, _SoftmaxState())
    return found


class _Rewriter:
    """Renders code with some reduction calls rewritten to reduce over a given axis, keepdims=True."""

    def __init__(self, plans: dict[tuple[int, int, int, int], tuple[int, int | None]], src: _Text | None):
        self.plans = plans  # position of a call -> (axis, index of a positional axis)
        self.src = src

    @staticmethod
    def key(node: ast.AST) -> tuple[int, int, int, int]:
        return (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def render(self, node: ast.AST) -> str:
        if self.src is None or getattr(node, "end_lineno", None) is None:
            return ast.unparse(self._transformed(node))
        if isinstance(node, ast.Call) and self.key(node) in self.plans:
            return self.fixed(node)
        return self._splice(node, *self.src.span(node))

    def render_lines(self, node: ast.AST, first_line: int) -> str:
        """Whole lines from `first_line` to the end of `node`, rewritten and dedented."""
        if self.src is None:
            return ast.unparse(self._transformed(node))
        start = self.src.starts[first_line - 1]
        end = self.src.span(node)[1]
        return textwrap.dedent(self._splice(node, start, end))

    def fixed(self, call: ast.Call) -> str:
        if self.src is None:
            return ast.unparse(self._transformed(call))
        axis, axis_index = self.plans[self.key(call)]
        parts = []
        axis_done = keep_done = False
        for index, argument in enumerate(call.args):
            if index == axis_index:
                parts.append(str(axis))
                axis_done = True
            else:
                parts.append(self.render(argument))
        for keyword in call.keywords:
            if keyword.arg == "axis":
                parts.append(f"axis={axis}")
                axis_done = True
            elif keyword.arg == "keepdims":
                parts.append("keepdims=True")
                keep_done = True
            else:
                parts.append(self.render(keyword))
        if not axis_done:
            parts.append(f"axis={axis}")
        if not keep_done:
            parts.append("keepdims=True")
        return f"{self.render(call.func)}({', '.join(parts)})"

    def _splice(self, container: ast.AST, start: int, end: int) -> str:
        assert self.src is not None
        inner: list[ast.Call] = []

        def collect(node: ast.AST):
            for child in children(node):
                if isinstance(child, ast.Call) and self.key(child) in self.plans:
                    inner.append(child)
                else:
                    collect(child)

        collect(container)
        pieces, position = [], start
        for call in sorted(inner, key=lambda c: self.src.span(c)[0]):  # type: ignore[union-attr]
            call_start, call_end = self.src.span(call)
            pieces += [self.src.text[position:call_start], self.fixed(call)]
            position = call_end
        pieces.append(self.src.text[position:end])
        return "".join(pieces)

    def _transformed(self, node: ast.AST) -> ast.AST:
        plans, key = self.plans, self.key

        class Apply(ast.NodeTransformer):
            def visit_Call(self, call: ast.Call) -> ast.AST:
                plan = plans.get(key(call)) if getattr(call, "end_lineno", None) is not None else None
                self.generic_visit(call)
                if plan is None:
                    return call
                axis, axis_index = plan
                if axis_index is not None and axis_index < len(call.args):
                    call.args[axis_index] = ast.Constant(axis)
                    call.keywords = [k for k in call.keywords if k.arg != "axis"]
                else:
                    call.keywords = [k for k in call.keywords if k.arg != "axis"]
                    call.keywords.append(ast.keyword("axis", ast.Constant(axis)))
                call.keywords = [k for k in call.keywords if k.arg != "keepdims"] + [
                    ast.keyword("keepdims", ast.Constant(True))
                ]
                return call

        return Apply().visit(copy.deepcopy(node))


def _row_axis_convention(tree: ast.AST | None) -> int:
    """1 when the file writes `axis=1` for its (batch, classes) arrays and never `axis=-1`, else -1."""
    ones = minus_ones = 0
    for node in walk(tree) if tree is not None else ():
        if isinstance(node, ast.keyword) and node.arg == "axis":
            try:
                value = _evaluate(node.value, _no_names)
            except _NotLiteral:
                continue
            ones += value == 1 and type(value) is int
            minus_ones += value == -1 and type(value) is int
    return 1 if ones and not minus_ones else -1


def _axis_note(axis: int) -> str:
    if axis == 1:
        return (
            "The rewrite reduces with axis=1, keepdims=True, the axis=1 this file already uses for its "
            "(batch, classes) arrays; axis=-1 does the same for any number of batch axes. keepdims=True keeps "
            "an (N, 1) column that broadcasts across each row."
        )
    return (
        "The rewrite reduces with axis=-1, keepdims=True: the last axis holds the classes whatever the batch "
        "shape (for 2-D input it is axis=1), and keepdims=True keeps an (N, 1) column that broadcasts across "
        "each row."
    )


def softmax_diagnosis(
    function: FunctionNode,
    *,
    text: str | None = None,
    qualname: str | None = None,
    row_axis: int | None = None,
    tree: ast.AST | None = None,
    columns: bool = False,
    output: str | None = None,
) -> SoftmaxDiagnosis:
    """Judge every max and sum reduction of one softmax-like function.

    A reduction is per row when it runs over the class axis of each sample:
    `axis=-1` or `axis=1` (with keepdims, or reshaped, when it is broadcast back),
    or `axis=0` of an array the function transposed first (the book's 2-D
    softmax does `x = x.T` ... `return y.T`).  Code only 1-D input reaches
    (`if x.ndim == 1:`, or after `if x.ndim == 2: ... return`) is correct as it
    is.  Sums count when they normalise (they add up `np.exp(...)` or divide);
    a loss `np.sum(...)` is left alone.  A global `np.max(x)` shift is harmless
    while every normalising sum is per row (softmax ignores a constant shift),
    so it is listed as `harmless`, not `wrong`, then; it is still rewritten in
    `fixed_source` for clarity.  `row_axis` is the axis rewrites use; by default
    1 when the file (`tree`, else the function) writes `axis=1` and never
    `axis=-1`, as 2-D book code does, else -1.  `tree` also lets numpy imported
    under another name be found.  `columns`: the file keeps its samples in
    columns (`W @ x`), so axis 0 is each sample's, as after a transpose.
    `output`: the local the softmax's probabilities were seen in; only the
    reductions that compute it are judged (the function may be a whole training
    loop, whose gradient sums after the softmax are not the softmax's).
    """
    src = _source(text)
    if row_axis is None:
        row_axis = _row_axis_convention(tree if tree is not None else function)
    name = qualname or function.name
    numpy = _numpy_names(tree if tree is not None else function)
    candidates = _softmax_candidates(function, numpy)
    if output is not None:
        feeding = _computing(function, output)
        candidates = [c for c in candidates if id(c.node) in feeding]
    parents = {id(child): parent for parent in walk(function) for child in children(parent)}

    judged = []
    for candidate in candidates:
        call = candidate.node
        known, axis, _node = _axis_of(call, candidate.axis_index or 0)
        keepdims = _keepdims_of(call)
        shown = _show(call, src)
        rows = {0} if candidate.transposed != columns else {1, -1}
        if candidate.one_d:
            verdict, per_row = "correct", None
            reason = f"`{shown}` only runs for 1-D input, where it reduces the one row"
        elif not known:
            verdict, per_row, reason = "unknown", None, f"the axis of `{shown}` is not a literal"
        else:
            if axis is None:
                per_row = False
            elif isinstance(axis, int):
                per_row = axis in rows
            else:
                per_row = len(axis) == 1 and axis[0] in rows
            parent = parents.get(id(call))
            broadcast_back = (isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Sub, ast.Div))) or (
                isinstance(parent, ast.AugAssign) and isinstance(parent.op, (ast.Sub, ast.Div))
            )
            misaligned = per_row and not candidate.transposed and keepdims is not True and broadcast_back
            if misaligned:
                per_row = False
            verdict = "correct" if per_row else "wrong"
            reason = _reduction_reason(candidate, shown, axis, per_row, misaligned)
        judged.append([candidate, verdict, per_row, known, axis, keepdims, reason])

    sums_wrong = any(c.kind == "sum" and v == "wrong" for c, v, *_ in judged)
    for entry in judged:
        candidate, verdict, _per_row, known, axis, _keepdims, _reason = entry
        if candidate.kind == "max" and verdict == "wrong" and known and axis is None and not sums_wrong:
            entry[1] = "harmless"
            entry[6] = (
                f"`{_show(candidate.node, src)}` shifts by one maximum over the whole batch; softmax ignores a "
                "constant shift and the sums here are per row, so this is harmless (a per-row max is still safer: "
                "a row far below the batch maximum can underflow to 0/0)"
            )
        elif candidate.kind == "max" and verdict == "wrong" and known and axis is None:
            entry[6] += "; shifting by it is harmless only when the sum is per row, and here it is not"

    def plan_for(candidate: _Candidate) -> tuple[int, int | None]:
        index = candidate.axis_index if candidate.axis_index is not None else 0
        positional = len(candidate.node.args) > index and not any(k.arg == "axis" for k in candidate.node.keywords)
        return (0 if candidate.transposed != columns else row_axis, index if positional else None)

    reductions: dict[str, list[Reduction]] = {"wrong": [], "harmless": [], "correct": [], "unknown": []}
    plans = {}
    for candidate, verdict, per_row, known, axis, keepdims, reason in judged:
        call = candidate.node
        plan = plan_for(candidate)
        fixed = _Rewriter({_Rewriter.key(call): plan}, src).fixed(call) if verdict != "correct" else _show(call, src)
        if verdict in ("wrong", "harmless"):
            plans[_Rewriter.key(call)] = plan
        col, end_col = _columns(call, src)
        reductions[verdict].append(
            Reduction(
                function=name,
                line=call.lineno,
                col=col,
                end_line=call.end_lineno or call.lineno,
                end_col=end_col,
                source=_show(call, src),
                kind=candidate.kind,
                axis=axis,
                axis_known=known,
                keepdims=keepdims,
                fixed=fixed,
                per_row=per_row,
                is_wrong=verdict == "wrong",
                is_harmless=verdict == "harmless",
                transposed=candidate.transposed,
                one_d_only=candidate.one_d,
                reason=reason,
            )
        )
    first_line = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    fixed_source = _Rewriter(plans, src).render_lines(function, first_line)
    return SoftmaxDiagnosis(
        wrong=reductions["wrong"],
        harmless=reductions["harmless"],
        fixed_source=fixed_source,
        function=name,
        line=function.lineno,
        correct=reductions["correct"],
        unknown=reductions["unknown"],
        axis=row_axis,
        note=_axis_note(row_axis),
    )


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The simple statements of a block and of the blocks nested in it, in source order (not those of
    a nested def or class)."""
    found: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, _DEFS):
            continue
        blocks = _child_blocks(stmt)
        found += [s for block in blocks for s in _statements(block)] if blocks else [stmt]
    return found


def _assigned(stmt: ast.stmt) -> set[str]:
    """The names a statement assigns or changes in place (`x = ...`, `x += ...`, `x[i] -= 1`)."""
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets = [stmt.target]
    else:
        return set()
    names = {name for target in targets for name in _target_names(target)}
    changed = {_root_name(target) for target in targets if isinstance(target, (ast.Subscript, ast.Attribute))}
    return (names | changed) - {None}


def _computing(function: FunctionNode, output: str) -> set[int]:
    """The ids of the nodes of the statements that compute `output`, read back from its last
    assignment in source order: what a loop body computes after the softmax from its output (the
    gradients, `db2 = np.sum(delta3, axis=0)`) and feeds the next pass is left out."""
    statements = _statements(function.body)
    needed = {output}
    last = max((i for i, stmt in enumerate(statements) if output in _assigned(stmt)), default=-1)
    kept: set[int] = set()
    for stmt in reversed(statements[: last + 1]):
        if needed & _assigned(stmt):
            nodes = list(walk(stmt))
            kept.update(id(node) for node in nodes)
            needed.update(n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
    return kept


def _reduction_reason(candidate: _Candidate, shown: str, axis: Any, per_row: bool, misaligned: bool) -> str:
    if misaligned:
        return (
            f"`{shown}` reduces each row but drops the axis: its (N,) result lines up with the columns when it is "
            "broadcast back; keep the axis with keepdims=True"
        )
    if per_row:
        if candidate.transposed:
            return f"`{shown}` reduces axis 0 of the transposed input, that is over the classes of each sample"
        return f"`{shown}` reduces over the classes of each row"
    if axis is None:
        if candidate.kind == "sum":
            return f"`{shown}` adds up the whole batch, so all rows together sum to 1 instead of each row"
        return f"`{shown}` takes one maximum over the whole batch"
    if candidate.transposed:
        return f"`{shown}` reduces over the batch axis of the transposed input, not over each sample's classes"
    if axis == 0:
        if candidate.kind == "sum":
            return (
                f"`{shown}` sums down the columns (over the batch), so each class column sums to 1 instead of each row"
            )
        return f"`{shown}` subtracts a different maximum from each column, which changes every row's probabilities"
    return f"`{shown}` reduces over axis {axis}, not over the classes of each row"


def softmax_functions(tree: ast.AST) -> list[tuple[str, FunctionNode]]:
    """(qualname, def) of every softmax-like function: its name contains "softmax" (any case), or it is
    `forward`/`__call__` of a class whose name does."""
    found = []
    for qualname, node, cls in _walk_defs(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if "softmax" in node.name.lower() or (
            cls is not None and "softmax" in cls.name.lower() and node.name in ("forward", "__call__")
        ):
            found.append((qualname, node))
    return found


def softmax_reductions(
    tree: ast.AST, function: FunctionNode | None = None, *, text: str | None = None
) -> list[Reduction]:
    """Every max and sum reduction in the softmax-like functions of `tree` (or only in `function`).

    See `softmax_diagnosis` for how each is judged.  Rewrites use `axis=1` when
    the file writes `axis=1` and never `axis=-1` (2-D book code), else `axis=-1`.
    """
    axis = _row_axis_convention(tree)
    names = _qualnames(tree)
    targets = [(names.get(id(function), function.name), function)] if function is not None else softmax_functions(tree)
    found: list[Reduction] = []
    for qualname, node in targets:
        found += softmax_diagnosis(node, text=text, qualname=qualname, row_axis=axis, tree=tree).reductions
    return found
