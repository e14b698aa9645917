"""Softmax normalises across the batch instead of within each row.

What it finds:
    A softmax whose output looks like probabilities (non-negative, summing to 1
    over the whole batch or down each column) but whose rows do not each sum
    to 1. Every function or method named like `softmax` is called on a batch of
    several samples, and every loss layer is run on a copy, with the scores its
    network really produces, and the probabilities it keeps (`self.y`) are
    inspected. The finding points at the reductions that run over the batch
    axis: `np.sum(exp_x)` or `np.max(x)` without an axis, or with `axis=0`.
    Subtracting a global `np.max(x)` is harmless on its own, and the book's 2-D
    softmax that transposes first is correct; neither is reported.

Why it matters:
    With a batch of N samples every row sums to about 1/N, so each sample's
    probabilities depend on the other samples, the loss starts near ln(N·C)
    instead of ln(C), and the backward pass `(y - t) / N`, which assumes
    per-row probabilities, is wrong for every parameter. The loss rises.

Example:
    def softmax(x):
        x = x - np.max(x)
        exp_x = np.exp(x)
        return exp_x / np.sum(exp_x)

Fix:
    def softmax(x):
        x = x - np.max(x, axis=-1, keepdims=True)
        exp_x = np.exp(x)
        return exp_x / np.sum(exp_x, axis=-1, keepdims=True)
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor import probes, static
from backprop_doctor.conventions._base import is_float_array, isolated
from backprop_doctor.conventions._classlayer import ClassLayer
from backprop_doctor.findings import Finding
from backprop_doctor.locate import arrays_assigned, definition, executed
from backprop_doctor.rules import rule
from backprop_doctor.static.definitions import Function, enclosing
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.importers import importer_trees
from backprop_doctor.static.layout import call_layout
from backprop_doctor.static.methods import only_sampled_from
from backprop_doctor.static.single_sample import only_single_sample_calls_in

NAME = "softmax-not-per-row"
CODE = "BPD301"
SEVERITY = "error"
STAGE = "batch"

THRESHOLD = 1e-6  # max |row sum - 1| of a correct softmax
CLASSES = 4  # columns of the synthetic scores


@dataclass
class _Suspect:
    """A function whose output is normalised over the batch, and what was measured."""

    function: Function
    measurements: list[tuple[str, probes.Normalisation, int]] = field(default_factory=list)  # (label, result, N)
    columns: bool = False  # the file keeps its samples in columns (`W @ x`)
    unsure: bool = False  # nothing shows which way its samples lie: a function on its own that no call hands a batch
    output: str | None = None  # the local its probabilities were seen in, in a function that does more than a softmax
    coupled: float | None = None  # rows that sum to 1 but move when the other rows do: the largest change of the first


def run(context: Any) -> Iterator[Finding]:
    rng = np.random.default_rng(context.options.seed + 301)
    n = max(int(context.options.batch_size), 2)
    scores = rng.standard_normal((n, CLASSES if n != CLASSES else CLASSES + 1))
    suspects: dict[tuple[str, int], _Suspect] = {}
    cases = list(probes.layer_cases(context))
    source = getattr(context, "source", None)
    columns = source is not None and source.tree is not None and source.facts.sample_layout == "columns"
    record = context.extras.get("observed_record")
    for func, call, standalone in _softmaxes(context, cases):
        if not standalone:
            _probe_softmax(func, call, scores, suspects, columns=columns)
            continue
        where = definition(func)
        checked = (os.path.abspath(source.path),) if source is not None and getattr(source, "path", None) else ()
        if _per_sample_only(record, func, where, checked):
            continue  # the program only ever gives it one sample (a vector, or one row or column)
        local = _callers_layout(where, func.__name__, checked) if where is not None else "unknown"
        if local == "unknown" and _both_axes(func):
            local = "rows"  # `z.max(axis=1)` beside `e.sum(axis=0)`: one of them is wrong whichever way the samples lie
        # a function on its own normalising whole rows or whole columns is wrong only where its
        # calls show the samples lie the other way; over the whole array, it is wrong either way
        _probe_softmax(func, call, scores, suspects, columns=columns if local == "unknown" else local == "columns", unsure=local == "unknown")
    for case in cases:
        if case.is_loss:
            _probe_loss_layer(case, context.options.train, suspects)
    for built in getattr(context, "networks", []):
        _probe_prediction(built, context.options.train, suspects)
    for call, label in _loss_function_calls(context, scores):
        _probe_loss_function(call, label, suspects)
    for result in context.extras.get("replay", []):
        loop = f"your training step ({result.step.place}), replayed"
        _suspects_in(getattr(result, "batch_normalised", []), loop, suspects)
    for suspect in suspects.values():
        yield _finding(suspect)


# --------------------------------------------------------------------------- what to call


def softmax_named(name: str) -> bool:
    """`softmax`, `_softmax`, `Softmax`; not `softmax_loss`, `softmax_backward` or `log_softmax`."""
    low = name.lower()
    return "softmax" in low and not any(w in low for w in ("loss", "backward", "grad", "cross", "entropy", "log"))


def _required(func: Any) -> int:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return -1
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)


def _per_sample_only(record: Any, func: Any, where: Function | None, checked: tuple[str, ...] = ()) -> bool:
    """The observed run called `func` and never on more than one sample: each input a vector, a
    row or a column; or, when the run called it not at all, every call in its file, and in the files
    beside it that import it (and the checked file, `checked`, when it does), hands it one sample
    (`softmax(y.reshape(-1, 1))`, `softmax(X[:, i:i + 1])`, in `for x in X:`, `softmax(z[b, :])`)."""
    code = getattr(func, "__code__", None)

    def same(other: Any) -> bool:  # the observed run defined its own copy of the function
        theirs = getattr(other, "__code__", None)
        return code is not None and theirs is not None and (theirs.co_filename, theirs.co_firstlineno) == (code.co_filename, code.co_firstlineno)

    shapes = [shape for f in (record.functions if record is not None else []) if same(f.func) for c in f.calls if c.args and (shape := _shape(c.args[0])) is not None]
    if shapes:
        return all(len(shape) < 2 or min(shape) == 1 for shape in shapes)
    if where is None:
        return False
    trees = [source_tree(where.file)[1], *importer_trees(where.file, func.__name__, checked)]
    return only_single_sample_calls_in([t for t in trees if t is not None], func.__name__)


def _callers_layout(where: Function, name: str, checked: tuple[str, ...]) -> str:
    """Which way the samples lie in what the calls of `name` hand it: in its own file, else in the files
    beside it that import it (`softmax(np.dot(Wya, a) + by)` in the file beside `rnn_utils.py`); "unknown"
    when they say nothing, or disagree."""
    local = call_layout(source_tree(where.file)[1], name)
    if local != "unknown":
        return local
    layouts = {call_layout(tree, name) for tree in importer_trees(where.file, name, checked)} - {"unknown"}
    return layouts.pop() if len(layouts) == 1 else "unknown"


def _shape(value: Any) -> tuple[int, ...] | None:
    """`np.shape(value)`; None for what is no array (a list of ragged arrays, the parameters a function
    of the program's was given: `loss_and_grads([W1, b1, W2, b2], xb, yb)`, a stand-in's value)."""
    try:
        shape = np.shape(value)
    except (ValueError, TypeError):  # ragged, or an object whose length raises
        return None
    # a stand-in for a missing module's value answers `.shape` with another stand-in
    return shape if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape) else None


def _softmaxes(context: Any, cases: list[probes.Case]) -> Iterator[tuple[Any, Callable[[np.ndarray], Any], bool]]:
    """(definition, callable, whether it stands on its own) for every user function, and every
    layer method, named like softmax."""
    found = context.extras.get("discovered")
    if found is not None:
        functions = list(found.functions)
    else:
        from backprop_doctor.discovery import is_user_object

        functions = [v for v in (context.namespace or {}).values() if inspect.isfunction(v) and is_user_object(v)]
    functions += [f for f in _beside_classes(context, found) if f not in functions]
    for func in functions:
        if softmax_named(func.__name__) and _required(func) == 1:
            yield func, func, True
    seen: set[tuple[type, str]] = set()
    for case in cases:
        cls = type(case.obj)
        try:
            members = inspect.getmembers(cls, inspect.isfunction)
        except Exception:  # a class whose attributes raise when read
            continue
        for name, method in members:
            if (cls, name) in seen or name in ("forward", "backward") or not softmax_named(name):
                continue
            if _required(method) != 2:  # self and the scores
                continue
            seen.add((cls, name))
            try:
                work = copy.deepcopy(case.obj)
            except Exception:  # an object that cannot be copied is not called
                continue
            yield method, getattr(work, name), False


def _both_axes(func: Any) -> bool:
    """Whether the function reduces a 2-D array along axis 0 and along axis 1 (or -1): the shift taken
    per row and the sum per column, or the other way round."""
    from backprop_doctor.conventions._classlayer import function_node

    node = function_node(func)
    axes: set[int] = set()
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)) if node is not None else []:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id if isinstance(call.func, ast.Name) else ""
        if name not in ("max", "amax", "sum", "nanmax", "logsumexp"):
            continue
        axis = next((k.value for k in call.keywords if k.arg == "axis"), None)
        if isinstance(axis, ast.UnaryOp) and isinstance(axis.op, ast.USub) and isinstance(axis.operand, ast.Constant):
            axes.add(-axis.operand.value)
        elif isinstance(axis, ast.Constant) and isinstance(axis.value, int):
            axes.add(axis.value)
    return 0 in axes and bool(axes & {1, -1})


def _beside_classes(context: Any, found: Any) -> list[Any]:
    """The user's functions of the modules the file's classes come from (`softmax` in `model.py`, whose
    `MLP` the checked `train.py` imports and trains): the classes call them, the file never names them."""
    from backprop_doctor.discovery import is_user_object

    classes = [*getattr(found, "layers", []), *getattr(found, "networks", []), *(obj for _, obj in getattr(found, "others", []) if inspect.isclass(obj))]
    record = context.extras.get("observed_record")
    classes += [i.cls for i in getattr(record, "instances", None) or []]
    # only those the program ran on a batch: the book's one-sample `softmax` beside the `safe_softmax` a model calls is no suspect
    batched = {
        (code.co_filename, code.co_firstlineno) for f in getattr(record, "functions", None) or []
        if (code := getattr(f.func, "__code__", None)) is not None and any(c.args and len(shape := _shape(c.args[0]) or ()) >= 2 and min(shape) > 1 for c in f.calls)
    }  # fmt: skip
    functions: list[Any] = []
    seen: set[int] = set()
    for cls in classes:
        for method in vars(cls).values() if isinstance(cls, type) else []:
            namespace = getattr(method, "__globals__", None)
            if not isinstance(namespace, dict) or id(namespace) in seen or namespace is context.namespace:
                continue
            seen.add(id(namespace))
            functions += [
                v for v in namespace.values()
                if inspect.isfunction(v) and softmax_named(v.__name__) and is_user_object(v)
                and (v.__code__.co_filename, v.__code__.co_firstlineno) in batched
            ]  # fmt: skip
    return functions


# --------------------------------------------------------------------------- probing


def _run(call: Callable[[], Any]) -> tuple[Any, dict[str, set[int]]]:
    """Call user code quietly, reseeded, and return its result and the lines of user code that ran."""
    with probes.quietly():
        np.random.seed(probes.FORWARD_SEED)
        return executed(call)


def _probe_softmax(
    func: Any, call: Callable[[np.ndarray], Any], scores: np.ndarray, suspects: dict, *, columns: bool = False, unsure: bool = False
) -> None:
    """Call a softmax on a batch of random scores; keep it when its samples do not each sum to 1.

    In a file that keeps its samples in columns (`W @ x`), the batch is given as columns and
    each column must sum to 1; a softmax over the whole array is then left alone, since such
    files often call it on one sample (one column) at a time. `unsure`: nothing says which way
    its samples lie, so normalising whole columns is only a warning (a softmax over the whole
    array is wrong either way).
    """
    where = definition(func)
    if where is None or (where.file, where.line) in suspects:
        return
    if only_sampled_from(source_tree(where.file)[1] or ast.Module(body=[]), func.__name__):
        return  # turns one sample's scores into the probabilities a sampler draws from, never a batch
    batch = scores.T.copy() if columns else scores.copy()
    try:
        out, _ = _run(lambda: call(batch))
    except Exception:  # the user's function raised on a 2-D batch: not ours to report
        return
    if not (is_float_array(out) and out.shape == batch.shape):
        return
    result = probes.normalisation(out.T if columns else out, THRESHOLD)
    if result is not None and result.kind == "rows":
        _probe_rows_apart(where, call, batch, out, result, suspects, columns=columns)
        return
    if result is None or (columns and result.kind == "batch"):
        return
    suspect = suspects.setdefault((where.file, where.line), _Suspect(where, columns=columns, unsure=unsure and result.kind != "batch"))
    layout = ", one sample per column as in this file" if columns else ""
    label = f"`{where.qualname}` on random scores of shape {batch.shape}{layout}"
    suspect.measurements.append((label, result, scores.shape[0]))


def _probe_rows_apart(
    where: Function, call: Callable[[np.ndarray], Any], batch: np.ndarray, out: np.ndarray, result: probes.Normalisation, suspects: dict, *, columns: bool
) -> None:
    """A softmax whose samples each sum to 1 is still wrong when a sample's probabilities move with
    the other samples: a shift by each column's maximum (`Z - Z.max(axis=0)` on rows) is not a
    constant of the row, so the row's probabilities are not the softmax of its scores. Called again
    with every sample but the first changed, the first sample's probabilities must stay (to rounding).
    Kept only where the source shows a reduction over the batch axis."""
    moved = batch.copy()
    if columns:
        moved[:, 1:] = 3.0 * moved[:, 1:] + 2.0
    else:
        moved[1:] = 3.0 * moved[1:] + 2.0
    try:
        again, _ = _run(lambda: call(moved))
    except Exception:  # raised on the second batch only: nothing to compare
        return
    if not (is_float_array(again) and again.shape == out.shape):
        return
    first, first_again = (out[:, 0], again[:, 0]) if columns else (out[0], again[0])
    change = float(np.max(np.abs(first - first_again)))
    if not change > THRESHOLD:
        return
    diagnosis = _diagnosis(where, columns)
    if diagnosis is None or not diagnosis.wrong:
        return
    suspect = suspects.setdefault((where.file, where.line), _Suspect(where, columns=columns, coupled=change))
    layout = ", one sample per column as in this file" if columns else ""
    label = f"`{where.qualname}` on random scores of shape {batch.shape}{layout}"
    suspect.measurements.append((label, result, batch.shape[1] if columns else batch.shape[0]))


def _probe_loss_layer(case: probes.Case, train: bool, suspects: dict) -> None:
    """Run a loss layer's forward on a copy and inspect the probabilities it keeps (`self.y`)."""
    x = case.x
    if x.ndim < 2 or x.shape[0] < 2:
        return
    with isolated(case.obj) as (work, _):
        layer = ClassLayer(work, train=train)
        try:
            _, ran = _run(lambda: layer.forward(x.copy(), copy.deepcopy(case.t)))
        except Exception:  # the gradient engine reports a loss layer that raises
            return
        kept = {k: np.array(v) for k, v in vars(work).items() if is_float_array(v) and v.shape == x.shape}
    for attr, value in kept.items():
        result = probes.normalisation(value, THRESHOLD)
        if result is None or result.kind == "rows":
            continue
        where = _producer(type(case.obj), ran, layer.methods.forward)
        if where is None:
            continue
        suspect = suspects.setdefault((where.file, where.line), _Suspect(where))
        suspect.unsure = False  # a loss layer's own forward on a batch: its rows are the samples
        source = f"the scores `{case.owner}` feeds it" if case.owner else f"a batch of scores of shape {x.shape}"
        label = f"`{type(case.obj).__name__}.{attr}` after forward on {source}"
        suspect.measurements.insert(0, (label, result, x.shape[0]))  # the real scores come first


def _probe_prediction(built: Any, train: bool, suspects: dict) -> None:
    """Run a network's `predict` on a copy, on the batch it was checked with: a softmax it calls
    as a plain function (the book's chapter 4 network, a softmax imported from a module the
    checked file never names) normalises what it returns."""
    _label, x, _t = built.cases[0]
    if not callable(getattr(built.obj, "predict", None)) or np.ndim(x) < 2 or np.shape(x)[0] < 2:
        return
    with isolated(built.obj) as (work, _):
        try:
            out, ran = _run(lambda: work.predict(np.array(x, dtype=np.float64)))
        except Exception:  # the gradient engine reports a network that raises
            return
    result = probes.normalisation(out, THRESHOLD)
    if result is None or result.kind == "rows":
        return
    where = _softmax_that_ran(ran)
    if where is None:
        return
    suspect = suspects.setdefault((where.file, where.line), _Suspect(where))
    suspect.unsure = False  # the network's own batch: its rows are the samples
    label = f"`{built.name}.predict` on a batch of shape {np.shape(x)}"
    suspect.measurements.insert(0, (label, result, int(np.shape(x)[0])))


def _loss_function_calls(context: Any, scores: np.ndarray) -> Iterator[tuple[Callable[[], Any], str]]:
    """A call of each loss written as a function that may hold a softmax of its own: cs231n's
    `softmax_loss(x, y)` on scores and labels, and its linear classifiers' `softmax_loss_naive(W, X,
    y, reg)` as their convention builds them."""
    found = context.extras.get("discovered")
    if found is None:
        return
    labels = np.arange(scores.shape[0]) % scores.shape[1]
    for func in found.loss_functions:
        yield (lambda func=func: func(scores.copy(), labels.copy())), f"`{func.__name__}` on random scores of shape {scores.shape}"
    for convention, obj in found.others:
        if getattr(convention, "NAME", "") != "cs231n-linear" or not inspect.isfunction(obj):
            continue
        try:
            cases = convention.build(obj, context, np.random.default_rng(context.options.seed + 301))
        except Exception:  # the convention's own check reports a function it cannot build
            continue
        for case in cases[:1]:
            shape = np.shape(case.x)
            yield (lambda case=case: case.adapter.forward(np.array(case.x), case.t)), f"`{obj.__name__}` on a batch of shape {shape}"


def _probe_loss_function(call: Callable[[], Any], label: str, suspects: dict) -> None:
    """Run a loss function and look at the arrays its own locals hold when it returns: a softmax
    inside it (`probs = exp_scores / np.sum(exp_scores)`) whose rows do not each sum to 1."""
    try:
        with probes.quietly():
            np.random.seed(probes.FORWARD_SEED)
            _, kept = arrays_assigned(call, _softmax_over_batch)
    except Exception:  # the gradient engine reports a loss function that raises
        return
    _suspects_in(kept, label, suspects)


def _suspects_in(kept: list[tuple[Function, str, np.ndarray]], label: str, suspects: dict) -> None:
    """Suspects from arrays a function held, normalised over the batch, where the function's source
    shows a reduction over it."""
    for function, name, value in kept:
        result = probes.normalisation(value, THRESHOLD)
        if not _softmax_over_batch(value) or (function.file, function.line) in suspects:
            continue
        diagnosis = _diagnosis(function, output=name)
        if diagnosis is None or not diagnosis.wrong:
            continue  # `dscores = probs / N` sums to 1 over the batch too: only a reduction over it is a softmax's
        suspect = suspects.setdefault((function.file, function.line), _Suspect(function, output=name))
        suspect.measurements.append((f"`{name}` in {label}", result, value.shape[0]))


def _softmax_over_batch(value: np.ndarray) -> bool:
    return probes.softmax_over_batch(value, THRESHOLD)


def _softmax_that_ran(ran: dict[str, set[int]]) -> Function | None:
    """The first function named like softmax among the lines of user code that ran."""
    for file, lines in ran.items():
        for function in sorted({enclosing(file, line) for line in lines} - {None}, key=lambda f: f.line):
            if softmax_named(function.qualname.rsplit(".", 1)[-1]):
                return function
    return None


def _producer(cls: type, ran: dict[str, set[int]], forward_name: str) -> Function | None:
    """The softmax that ran inside a loss layer's forward, else the forward itself, under the name
    its convention calls it (`forward_pass`, `fprop`...)."""
    found = _softmax_that_ran(ran)
    if found is not None:
        return found
    forward = getattr(cls, forward_name, None)
    return definition(forward) if callable(forward) else None


# --------------------------------------------------------------------------- the finding


def _diagnosis(function: Function, columns: bool = False, output: str | None = None) -> static.SoftmaxDiagnosis | None:
    lines, tree = source_tree(function.file)
    if tree is None:
        return None
    try:
        node = static.find_function(tree, function.qualname)
        if node is None:
            return None
        text = "\n".join(lines) + "\n"
        return static.softmax_diagnosis(node, text=text, qualname=function.qualname, tree=tree, columns=columns, output=output)
    except Exception:  # unusual code the static reading does not follow: point at the def line instead
        return None


def _fixed_lines(function: Function, diagnosis: static.SoftmaxDiagnosis) -> str:
    """The lines holding the wrong reductions, rewritten; the whole fixed function if one spans lines
    or holds another (`np.sum(np.exp(x - np.max(x)))`: its rewrite is of the original text)."""
    wrong = diagnosis.wrong
    if any(r.line != r.end_line for r in wrong) or _nested(wrong):
        return diagnosis.fixed_source
    lines, _ = source_tree(function.file)
    edited: dict[int, str] = {}
    for r in sorted(wrong, key=lambda r: (r.line, r.col), reverse=True):
        text = edited.get(r.line, lines[r.line - 1])
        edited[r.line] = text[: r.col] + r.fixed + text[r.end_col :]
    shown = [edited[n] for n in sorted(edited)]
    indent = min((len(s) - len(s.lstrip()) for s in shown if s.strip()), default=0)
    return "\n".join(s[indent:] for s in shown)


def _nested(wrong: Any) -> bool:
    """Some reduction lies inside another on the same line."""
    return any(a is not b and a.line == b.line and a.col <= b.col and b.end_col <= a.end_col for a in wrong for b in wrong)


def _sums(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:.3g}" for v in values.ravel()[:8])
    return shown + (", ..." if values.size > 8 else "")


def _finding(suspect: _Suspect) -> Finding:
    _, result, n = suspect.measurements[0]  # the network's own scores when there are some
    where = suspect.function
    name = where.qualname
    diagnosis = _diagnosis(where, suspect.columns, suspect.output)
    wrong = list(diagnosis.wrong) if diagnosis is not None else []
    axis = 0 if suspect.columns else diagnosis.axis if diagnosis is not None else -1
    sums = [r for r in wrong if r.kind == "sum"]
    anchor = sums[0] if sums else (wrong[0] if wrong else None)
    if suspect.coupled is not None:
        what = "each sample with values taken from the other samples"
        how = "each sample's probabilities change with the rest of the batch, are not the softmax of its own scores,"
    elif result.kind == "batch":
        what = "across the whole batch"
        how = (
            f"every row sums to about 1/N instead of 1, N being the batch size "
            f"({1 / n:.3g} for the {n} samples backprop-doctor probed with)"
        )
    elif suspect.columns:
        what = "each class over the batch instead of each sample (a column, in this file)"
        how = "the samples' probabilities do not sum to 1"
    else:
        what = "each column over the batch instead of each row"
        how = "the rows do not sum to 1"
    if anchor is not None:
        message = (
            f"the softmax in `{name}` normalises {what} (line {anchor.line}): `{anchor.source}` reduces over "
            f"{'the whole array' if anchor.axis is None else f'axis {anchor.axis}'}, so {how} and every gradient "
            f"is wrong; reduce over axis {axis} with keepdims=True"
        )
    else:
        message = f"the softmax in `{name}` normalises {what}: {how} and every gradient is wrong; normalise each row (axis={axis}, keepdims=True)"
    if suspect.coupled is not None:
        sample = "column" if suspect.columns else "row"
        evidence = [("batch dependence", f"{lab}: the first {sample}'s probabilities moved by {suspect.coupled:.3g} when only the other {sample}s changed (they should not move)") for lab, _, _ in suspect.measurements]
    else:
        evidence = [("row sums", f"{lab}: {_sums(res.sums)} (each should be 1)") for lab, res, _ in suspect.measurements]
    if wrong:
        evidence.append(("reductions", "\n".join(f"line {r.line}: {r.reason}" for r in wrong)))
    if diagnosis is not None and wrong:
        fix = _fixed_lines(where, diagnosis)
    else:
        fix = f"return exp_x / np.sum(exp_x, axis={axis}, keepdims=True)"
    if suspect.unsure:
        layout = "rows" if not suspect.columns else "columns"
        message += f" (if your samples are {layout}: no call in this file shows which way they lie)"
    return rule(NAME).finding(
        message,
        severity="warning" if suspect.unsure else None,
        file=where.file,
        line=anchor.line if anchor else where.line,
        column=anchor.col + 1 if anchor else None,
        highlight=tuple(sorted({r.line for r in wrong})) or (where.line,),
        layer=name,
        measured=result.error if suspect.coupled is None else None,  # the batch dependence is in the evidence
        threshold=THRESHOLD if suspect.coupled is None else None,
        fix=fix,
        evidence=tuple(evidence),
    )
