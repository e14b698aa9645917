"""Numerical probes of the batch axis and the loss reduction, and the inputs they run on.

The checks `softmax-not-per-row`, `batch-coupling`, `unshared-parameter`,
`loss-not-mean` and `init-loss` ask questions of arrays and of callables:
does every row of this output sum to 1, does changing sample j change the
output of sample i, what happens to the loss when the batch is tiled twice.
The answers are computed here, as plain numbers; the checks turn them into
findings. Functions that take a callable call it on copies of their inputs
and never change what they were given.

Two sections serve the checks beyond the numbers. "Inputs" walks the objects a
check context holds (built networks and standalone layers) and yields each
layer with the input that reaches it, always from an isolated copy, so every
check probes the same real activations. "Where in the source" records which
lines of the user's code ran during a probe and finds the reductions among
them (`np.mean(x)` without an axis), so a finding can point at the line that
mixes the batch; `static` judges softmax reductions, these are the generic ones.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import linecache
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop_doctor.adapters import FORWARD_SEED, Network, is_float_array, is_loss_layer, isolated, source_of
from backprop_doctor.locate import is_user_file

# How close to 1 a sum must be for an array to "look like" probabilities.
SUM_TOLERANCE = 1e-3
# Samples perturbed one at a time: all of them in a batch up to this size, else three.
ALL_SAMPLES_UP_TO = 6

_TINY = 1e-300


# --------------------------------------------------------------------------- running user code


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Run user code without side effects on the tool's process that matter here.

    NumPy's global random state is restored on exit, whatever the block did to
    it, and floating-point warnings (`divide by zero encountered in log`) stay
    silent: the checks measure what such code computes, they do not print it.
    """
    state = np.random.get_state()
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    finally:
        np.random.set_state(state)


def reseeded(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f`, reseeding NumPy's global RNG before each call (use inside `quietly`)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        np.random.seed(FORWARD_SEED)
        return f(*args, **kwargs)

    return call


# --------------------------------------------------------------------------- probabilities


def row_sums(p: np.ndarray) -> np.ndarray:
    """The sum of each row: over the last axis, one value per sample (and position)."""
    return np.sum(np.asarray(p, dtype=np.float64), axis=-1)


@dataclass(frozen=True)
class Normalisation:
    """How an array of probabilities of shape (N, ..., C) is normalised."""

    kind: str  # "rows" (each row sums to 1), "batch" (the whole array does), "columns" (over the batch axis)
    sums: np.ndarray  # the row sums
    error: float  # max |row sum - 1|


def normalisation(p: Any, tolerance: float = 1e-6) -> Normalisation | None:
    """How `p` is normalised, or None when it does not look like probabilities.

    Probabilities are finite, non-negative and sum to 1 per row, in total or per
    column. Rows within `tolerance` of 1 are "rows"; the others need a batch
    of at least two samples to tell apart.
    """
    if not is_float_array(p) or p.ndim < 2 or p.shape[0] < 2 or p.shape[-1] < 2:
        return None
    if not np.all(np.isfinite(p)) or np.min(p) < -tolerance:
        return None
    sums = row_sums(p)
    error = float(np.max(np.abs(sums - 1.0)))
    if error <= tolerance:
        return Normalisation("rows", sums, error)
    if abs(float(np.sum(p)) - 1.0) <= SUM_TOLERANCE:
        return Normalisation("batch", sums, error)
    if np.allclose(np.sum(p, axis=0), 1.0, rtol=0.0, atol=SUM_TOLERANCE):
        return Normalisation("columns", sums, error)
    return None


# --------------------------------------------------------------------------- batch coupling


@dataclass(frozen=True)
class Coupling:
    """The largest effect of one sample on another."""

    measured: float  # largest change in another sample's rows, relative to the largest value
    source: int | None = None  # the sample that was perturbed (j)
    affected: int | None = None  # the sample whose rows changed most (i != j)


def _samples(n: int) -> list[int]:
    return list(range(n)) if n <= ALL_SAMPLES_UP_TO else [0, n // 2, n - 1]


def _rows_max(a: np.ndarray) -> np.ndarray:
    return np.max(np.abs(a).reshape(a.shape[0], -1), axis=1)


def output_coupling(
    f: Callable[[np.ndarray], Any], x: np.ndarray, rng: np.random.Generator, *, step: float | None = None
) -> Coupling | None:
    """Perturb one sample of `x` at a time and measure how much the other samples' outputs move.

    `f` maps a batch to an array with the batch on axis 0. The perturbation is
    positive on average, so a sum or mean over the batch cannot cancel it, and
    its size is `step` (default: the spread of `x`). None when the output has no
    batch axis or is not finite.
    """
    x = np.array(x, dtype=np.float64)
    n = x.shape[0] if x.ndim else 0
    if n < 2:
        return None
    base = np.asarray(f(x.copy()), dtype=np.float64)
    if base.ndim == 0 or base.shape[0] != n or not np.all(np.isfinite(base)):
        return None
    scale = max(float(np.max(np.abs(base))), _TINY)
    step = step or float(np.std(x)) or 1.0
    worst = Coupling(0.0)
    for j in _samples(n):
        moved = x.copy()
        moved[j] += step * rng.uniform(0.5, 1.5, size=x.shape[1:])
        out = np.asarray(f(moved), dtype=np.float64)
        if out.shape != base.shape:
            return None
        change = _rows_max(out - base)
        change[j] = 0.0
        i = int(np.argmax(change))
        if change[i] / scale > worst.measured:
            worst = Coupling(float(change[i] / scale), j, i)
    return worst


def gradient_coupling(
    backward: Callable[[np.ndarray, np.ndarray], Any], x: np.ndarray, out_shape: Sequence[int], rng: np.random.Generator
) -> Coupling | None:
    """Send an upstream gradient that is non-zero on one sample only; measure dx on the others.

    `backward(x, dout)` runs forward on `x` and returns dx for `dout`. Here
    `source` is the sample that had the gradient and `affected` the one whose
    dx row should have stayed zero; `measured` is relative to the largest |dx|.
    """
    x = np.array(x, dtype=np.float64)
    n = x.shape[0] if x.ndim else 0
    if n < 2 or len(out_shape) == 0 or out_shape[0] != n:
        return None
    worst = Coupling(0.0)
    for i in _samples(n):
        dout = np.zeros(tuple(out_shape))
        dout[i] = rng.standard_normal(tuple(out_shape[1:]))
        dx = backward(x.copy(), dout)
        if not isinstance(dx, np.ndarray) or dx.shape != x.shape or not np.all(np.isfinite(dx)):
            return None
        rows = _rows_max(np.asarray(dx, dtype=np.float64))
        scale = max(float(np.max(rows)), _TINY)
        rows[i] = 0.0
        j = int(np.argmax(rows))
        if rows[j] / scale > worst.measured:
            worst = Coupling(float(rows[j] / scale), i, j)
    return worst


# --------------------------------------------------------------------------- tiling and scale


def tile_batch(a: Any, times: int = 2) -> Any:
    """`a` repeated `times` times along the batch axis (labels and one-hot targets alike)."""
    return np.concatenate([np.asarray(a)] * times, axis=0)


def reduction(ratio: float, times: int = 2, rtol: float = 1e-6) -> str | None:
    """The reduction a tiled batch reveals: "mean" when the value stayed (ratio 1), "sum" when it grew `times`-fold."""
    if np.isclose(ratio, 1.0, rtol=rtol, atol=0.0):
        return "mean"
    if np.isclose(ratio, float(times), rtol=rtol, atol=0.0):
        return "sum"
    return None


def scale_factor(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> float | None:
    """The s with a = s * b, when `a` is a multiple of `b` (least squares), else None."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return None
    norm = float(np.dot(b, b))
    if norm == 0.0 or not np.isfinite(norm):
        return None
    s = float(np.dot(a, b) / norm)
    residual = float(np.linalg.norm(a - s * b))
    return s if residual <= rtol * max(float(np.linalg.norm(a)), _TINY) else None


# --------------------------------------------------------------------------- inputs


@dataclass
class Case:
    """One layer and the input that reaches it.

    `obj` belongs to a working copy made for this case: copy it again (with
    `adapters.isolated`) before calling it, so one probe cannot disturb the next.
    """

    owner: str | None  # the network's class name, None for a standalone layer
    key: str  # its key in the network (`Affine1`, `lastLayer`), or its class name
    obj: Any
    x: np.ndarray
    t: Any
    is_loss: bool


def network_cases(built: Any, *, train: bool = True) -> list[Case]:
    """Every layer of a built network (`build.Built`) with the activation that reaches it.

    Activations come from running the layers in order on a copy of the network,
    the loss layer last with the case's target. Stops at the first layer that
    raises; a network the adapters do not understand gives no cases.
    """
    cases: list[Case] = []
    for _label, x, t in built.cases:
        try:
            with quietly(), isolated(built.obj) as (work, _):
                network = Network(work, train=train)
                for key, layer, activation, target, is_loss in network.layer_inputs(x, t):
                    cases.append(Case(network.name, key, layer, activation, target, is_loss))
        except Exception:  # the user's code raised: the gradient engine reports it
            continue
    return cases


def standalone_cases(built: Any) -> Iterator[Case]:
    """The cases of a standalone layer (`build.Built`) as built for it."""
    loss = is_loss_layer(built.obj)
    for _label, x, t in built.cases:
        if is_float_array(np.asarray(x)):
            yield Case(None, built.name, built.obj, np.array(x, dtype=np.float64), t, loss)


def layer_cases(context: Any) -> Iterator[Case]:
    """Every layer the context holds, standalone ones first, then each network's."""
    for built in context.layers:
        yield from standalone_cases(built)
    for built in context.networks:
        yield from network_cases(built, train=context.options.train)


# --------------------------------------------------------------------------- where in the source

REDUCERS = frozenset(
    {"sum", "nansum", "mean", "nanmean", "max", "amax", "nanmax", "min", "amin", "nanmin"}
    | {"std", "var", "prod", "median", "logsumexp"}
)
_NUMPY_NAMES = frozenset({"np", "numpy", "onp", "cp", "jnp"})


@dataclass(frozen=True)
class Reduction:
    """A call such as `np.sum(exp_x)` or `x.max(axis=0)` in the user's source."""

    file: str
    line: int
    end_line: int
    col: int  # 0-based character offsets within `line` / `end_line`
    end_col: int
    text: str  # the call as written
    func: str  # "sum", "max", ...
    axis: Any  # None when absent or None, else the literal (0, -1, (1, 2)), or "?" when not a literal
    axis_span: tuple[int, int] | None = None  # character offsets of the axis argument on `line`
    has_args: bool = True
    has_keepdims: bool = False

    @property
    def over_batch(self) -> bool:
        """True when it reduces over axis 0, the batch (no axis means every axis)."""
        if self.axis is None:
            return True
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        return 0 in axes

    def describe(self) -> str:
        if self.axis is None:
            return f"`{self.text}` reduces over the whole batch (no axis)"
        return f"`{self.text}` reduces over axis 0, the batch axis"


def executed(call: Callable[[], Any]) -> tuple[Any, dict[str, set[int]]]:
    """Run `call()` and record which lines of user files ran, by file. Exceptions propagate."""
    lines: dict[str, set[int]] = {}

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            lines.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return local if is_user_file(frame.f_code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = call()
    finally:
        sys.settrace(previous)
    return result, lines


_TREES: dict[str, tuple[str, ast.Module | None]] = {}


def source_tree(file: str) -> tuple[list[str], ast.Module | None]:
    """The lines and the parsed tree of a source file (as `linecache` holds it)."""
    lines = linecache.getlines(file)
    text = "".join(lines)
    cached = _TREES.get(file)
    if cached is None or cached[0] != text:
        try:
            tree: ast.Module | None = ast.parse(text)
        except (SyntaxError, ValueError):
            tree = None
        _TREES[file] = cached = (text, tree)
    return [line.rstrip("\r\n") for line in lines], cached[1]


def char_column(line: str, byte_col: int) -> int:
    """The character offset of `ast`'s UTF-8 byte offset `byte_col` in `line`."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def _literal(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return "?"
    return tuple(value) if isinstance(value, list) else value


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
    if isinstance(func, ast.Name):
        axis: Any = 0
    else:
        axis = None if axis_node is None else _literal(axis_node)
    line, end_line = node.lineno, node.end_lineno or node.lineno
    first, last = lines[line - 1], lines[end_line - 1]
    col, end_col = char_column(first, node.col_offset), char_column(last, node.end_col_offset or 0)
    text = first[col:end_col] if line == end_line else ast.unparse(node)
    axis_span = None
    if axis_node is not None and axis_node.lineno == axis_node.end_lineno == line:
        axis_span = (char_column(first, axis_node.col_offset), char_column(first, axis_node.end_col_offset or 0))
    return Reduction(
        file, line, end_line, col, end_col, text, name, axis, axis_span,
        has_args=bool(node.args or node.keywords), has_keepdims="keepdims" in keywords,
    )  # fmt: skip


def _simple_statements(tree: ast.AST) -> Iterator[ast.stmt]:
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)
        ):
            yield node


def reductions(file: str, ran: set[int] | None = None, span: tuple[int, int] | None = None) -> list[Reduction]:
    """The reductions in `file` whose statement ran (`ran`: line numbers), within `span` (first, last line)."""
    lines, tree = source_tree(file)
    if tree is None:
        return []
    found = []
    for statement in _simple_statements(tree):
        if ran is not None and statement.lineno not in ran:
            continue
        if span is not None and not span[0] <= statement.lineno <= span[1]:
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                r = _reduction(node, file, lines)
                if r is not None:
                    found.append(r)
    return sorted(set(found), key=lambda r: (r.line, r.col))


@dataclass(frozen=True)
class Function:
    """A function or method definition in a source file."""

    file: str
    qualname: str  # "SoftmaxWithLoss.softmax"
    line: int  # the `def` line
    end_line: int


def functions(file: str) -> list[Function]:
    """Every function and method defined in `file`, with its qualified name."""
    _, tree = source_tree(file)
    if tree is None:
        return []
    found: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append(Function(file, name, first, child.end_lineno or child.lineno))
                visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def enclosing(file: str, line: int) -> Function | None:
    """The innermost function of `file` that contains `line`."""
    inside = [f for f in functions(file) if f.line <= line <= f.end_line]
    return max(inside, key=lambda f: f.line) if inside else None


def definition(func: Any) -> Function | None:
    """Where a live function or method is defined."""
    func = inspect.unwrap(getattr(func, "__func__", func))
    file, line = source_of(func)
    if file is None or line is None:
        return None
    name = getattr(func, "__name__", "")
    found = [f for f in functions(file) if f.line == line or f.line <= line <= f.end_line and f.qualname.endswith(name)]
    if found:
        return min(found, key=lambda f: abs(f.line - line))
    return Function(file, getattr(func, "__qualname__", func.__name__), line, line)


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
            edits += _axis_edits(text, r, axis)
        for start, end, replacement in sorted(set(edits), reverse=True):  # right to left: offsets stay valid
            text = text[:start] + replacement + text[end:]
        fixed.append(text)
    indent = min((len(s) - len(s.lstrip()) for s in fixed if s.strip()), default=0)
    return [s[indent:] for s in fixed]


def _axis_edits(line: str, r: Reduction, axis: str) -> list[tuple[int, int, str]]:
    """Insertions and replacements that make the reduction `r` run over `axis` with keepdims=True."""
    keepdims = "" if r.has_keepdims else ", keepdims=True"
    close = r.end_col - 1  # the closing parenthesis
    if r.text.startswith("sum("):  # builtin sum: rewrite as np.sum
        return [(r.col, r.col + len("sum("), "np.sum("), (close, close, f", axis={axis}{keepdims}")]
    if r.axis_span is not None:
        edits = [(r.axis_span[0], r.axis_span[1], axis)]
        return edits + [(close, close, keepdims)] if keepdims else edits
    return [(close, close, (", " if r.has_args else "") + f"axis={axis}{keepdims}")]
